"""An output for tests: it keeps what the conductor hands over, to compare with what was heard."""

from ensemble.outputs.base import Output


class Listener(Output):
    name = "listener"

    def __init__(self):
        super().__init__()
        self.phrases = []
        self.notes = []
        self.closed = False

    def phrase(self, phrase, start):
        self.phrases.append(phrase)

    def note(self, note):
        self.notes.append(note)

    def close(self):
        self.closed = True

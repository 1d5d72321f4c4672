"""The small interface every output offers the conductor."""

from __future__ import annotations

from ensemble.clock import Clock
from ensemble.events import Phrase, TimedNote
from ensemble.messages import Talks
from ensemble.mix import Mix


class Output(Talks):
    """A destination for what the ensemble plays.

    The conductor calls these from its own thread, `lookahead` seconds ahead of time. An
    output owns its failures: a lost device becomes a message, never an exception that
    would stop the others, and it reconnects on its own when it can.
    """

    name = "output"
    # Seconds this output sounds after the time it is given (a synth's or a device's latency):
    # the conductor gives it times that much earlier, so that it is heard on the beat.
    nudge = 0.0

    def open(self, clock: Clock) -> None:
        """Get ready to play on `clock`'s time line. May raise UserError when it cannot."""

    def phrase(self, phrase: Phrase, start: float) -> None:
        """A phrase that starts at clock time `start`."""

    def note(self, note: TimedNote) -> None:
        """One note, handed over ahead of its due time."""

    def retime(self, rest: Phrase, start: float) -> None:
        """A followed tempo changed mid-phrase: `rest` is what is left of the phrase playing, at
        the new tempo, from clock time `start`. Notes are handed over one by one at the tempo of
        the moment; an output that holds more of the phrase (a program, clock pulses) places
        what it holds from `start` anew."""

    def remix(self, mix: Mix, at: float) -> None:
        """Who is heard, or how, changed: from clock time `at`, `mix.revise` says how each note
        sounds. Notes handed over from now on are revised already; an output that holds more
        (a phrase's program, a sounding note) revises it here."""

    def hold(self, at: float) -> None:
        """A followed beat source stopped: nothing already handed over may sound after `at`;
        the music goes on with the next note handed over once the source plays again."""

    def end(self, at: float) -> None:
        """The performance ends at clock time `at`: nothing new starts after it."""

    def close(self) -> None:
        """Stop: nothing may be left sounding."""

    def room_for(self, agents: int) -> str | None:
        """Asked before a spawn is accepted: can this output play `agents` agents in all without
        dropping out? None if it can (the default), else why not, in one line."""
        return None


"""The small interface every output offers the conductor."""

from __future__ import annotations

from collections import deque

from ensemble.clock import Clock
from ensemble.events import Phrase, TimedNote
from ensemble.mix import Mix


class Output:
    """A destination for what the ensemble plays.

    The conductor calls these from its own thread, `lookahead` seconds ahead of time. An
    output owns its failures: a lost device becomes a message, never an exception that
    would stop the others, and it reconnects on its own when it can.
    """

    name = "output"

    def __init__(self) -> None:
        self._messages: deque[str] = deque()

    def open(self, clock: Clock) -> None:
        """Get ready to play on `clock`'s time line. May raise UserError when it cannot."""

    def phrase(self, phrase: Phrase, start: float) -> None:
        """A phrase that starts at clock time `start`."""

    def note(self, note: TimedNote) -> None:
        """One note, handed over ahead of its due time."""

    def remix(self, mix: Mix, at: float) -> None:
        """Who is heard, or how, changed: from clock time `at`, `mix.revise` says how each note
        sounds. Notes handed over from now on are revised already; an output that holds more
        (a phrase's program, a sounding note) revises it here."""

    def end(self, at: float) -> None:
        """The performance ends at clock time `at`: nothing new starts after it."""

    def close(self) -> None:
        """Stop: nothing may be left sounding."""

    def room_for(self, agents: int) -> str | None:
        """Asked before a spawn is accepted: can this output play `agents` agents in all without
        dropping out? None if it can (the default), else why not, in one line."""
        return None

    def report(self, message: str) -> None:
        """Queue a one-line message; safe from any thread, including an audio callback."""
        self._messages.append(f"{self.name}: {message}")

    def drain_messages(self) -> list[str]:
        drained = []
        while self._messages:
            drained.append(self._messages.popleft())
        return drained

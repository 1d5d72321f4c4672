"""What the session is handed from the top and never imports: the ear that rewards listening
agents, a tempo from outside (Link, a MIDI clock), a keyboard for `seed midi`, the other laptops
of a laptop ensemble, and whoever observes what it applies and composes (the journal)."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ensemble import commands as cmd
from ensemble.learning.chain import Attempt
from ensemble.melody import Melody
from ensemble.voicing import Timbre


class Ear(Protocol):
    """Rewards from listening (ensemble.listening.ear.Ear): handed in from the top, never imported."""

    def rewards(self, played: np.ndarray, played_timbre: Timbre, target: np.ndarray,
                target_timbre: Timbre) -> np.ndarray: ...

    def timing(self, played_timbre: Timbre, target_timbre: Timbre, tick_seconds: float,
               played: np.ndarray, played_lengths: np.ndarray, target: np.ndarray,
               target_lengths: np.ndarray) -> np.ndarray: ...


class Observer(Protocol):
    def applied(self, phrase: int, beat: float, command: cmd.Command) -> None: ...

    def composed(self, phrase: int, attempts: list[Attempt]) -> None: ...


class OutsideTempo(Protocol):
    name: str

    def set_tempo(self, bpm: float) -> None:
        """Change it (UserError when it cannot be changed from here)."""
        ...


class KeyboardSeed(Protocol):
    """A MIDI input that captures melodies (midi/keyboard.py): what `seed midi` asks of it."""

    def capture(self, steps: int, step_seconds: float, beat_seconds: float, rhythm: bool) -> None: ...

    def follow(self, steps: int, step_seconds: float, beat_seconds: float, rhythm: bool) -> None: ...

    def off(self) -> None: ...

    def take(self) -> Melody | None: ...

    def status(self) -> str: ...


class Outside(Protocol):
    """The other laptops (ensemble.peers.band): handed in from the top, never imported."""

    def take(self, beat: float, wanted: set[str]) -> dict[str, Melody]:
        """What the agents `wanted` (`alice/a3`) shared for the phrases before the one starting
        at our `beat`, where it differs from what was taken last."""
        ...

    def share(self, beat: float, melodies: dict[str, Melody]) -> None:
        """Our agents' greedy melodies, learned in the phrase starting at our `beat`."""
        ...

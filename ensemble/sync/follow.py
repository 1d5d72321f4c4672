"""What a performance follows, when not its own tempo: Ableton Link or an external MIDI clock.

Made only when asked for (`--link`, `--clock-in`): by default nothing is sent or listened to on
the network, and no MIDI input is opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ensemble.errors import UserError
from ensemble.sync.timeline import Reading


class Followed(Protocol):
    """A beat source (sync/timeline.py) that also takes `tempo` commands and shows itself."""

    name: str

    def reading(self) -> Reading | None: ...

    def align(self, quantum: float) -> None: ...

    def set_tempo(self, bpm: float) -> None: ...

    def label(self) -> str: ...

    def drain_messages(self) -> list[str]: ...

    def close(self) -> None: ...


@dataclass
class Follow:
    beats: Followed
    quantum: float | None  # None: one phrase's length, the first phrase's

    def close(self) -> None:
        self.beats.close()


def check_quantum(quantum: float | None) -> None:
    if quantum is not None and not 0 < quantum <= 64:
        raise UserError(f"--quantum must be between 0 and 64 beats, not {quantum:g}")


def link(tempo: float, quantum: float | None, start_stop: bool) -> Follow:
    """Join (or start) a Link session on every network interface."""
    from ensemble.sync.link import LinkSession

    check_quantum(quantum)
    session = LinkSession(tempo=tempo, quantum=quantum or 4.0)
    session.enable(start_stop_sync=start_stop)
    return Follow(session, quantum)


def midi_clock(port: str | None, quantum: float | None) -> Follow:
    """Follow the MIDI clock on a JACK MIDI output (None: a port of our own to connect to)."""
    from ensemble.sync.midi_clock import MidiClockBeats

    check_quantum(quantum)
    return Follow(MidiClockBeats(port), quantum)

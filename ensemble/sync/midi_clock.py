"""An external MIDI clock as a beat source: its beats (from its Start) and its tempo."""

from __future__ import annotations

import time

from ensemble.errors import UserError
from ensemble.midi.clock_in import ClockIn
from ensemble.sync.timeline import Reading


class MidiClockBeats:
    """Follows the clock on the JACK MIDI output named by (a part of) `port`; None: offers a
    port of our own (`ensemble-clock-in:clock-in`) for a sender to connect to."""

    def __init__(self, port: str | None) -> None:
        self.clock = ClockIn(connect_to=port)
        self.name = f"the MIDI clock on {port}" if port else "the MIDI clock"

    def reading(self) -> Reading | None:
        state = self.clock.state()
        now = time.monotonic()
        beat = state.beat_at(now)
        if beat is None or state.bpm is None:
            return None
        return Reading(now, beat, state.bpm, state.running)

    def align(self, quantum: float) -> None:
        pass  # the clock's beats count from its Start: quanta are counted from there

    def set_tempo(self, bpm: float) -> None:
        raise UserError(f"the tempo comes from {self.name}; change it there")

    def label(self) -> str:
        return self.clock.state().label()

    def drain_messages(self) -> list[str]:
        return self.clock.drain_messages()

    def close(self) -> None:
        self.clock.close()

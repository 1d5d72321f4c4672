"""Logical time: beats, and where they fall in seconds when the tempo changes."""

from __future__ import annotations


class TempoMap:
    """Beats -> seconds for a tempo that changes only at the beats where it is set."""

    def __init__(self, bpm: float) -> None:
        self._anchor_beat = 0.0
        self._anchor_second = 0.0
        self.bpm = bpm

    def set_tempo(self, beat: float, bpm: float) -> None:
        """From `beat` on, play at `bpm` (beats before it keep their times)."""
        self._anchor_second = self.seconds(beat)
        self._anchor_beat = beat
        self.bpm = bpm

    def seconds(self, beat: float) -> float:
        return self._anchor_second + (beat - self._anchor_beat) * 60.0 / self.bpm

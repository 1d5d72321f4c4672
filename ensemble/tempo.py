"""Logical time: beats, and where they fall in seconds when the tempo changes."""

from __future__ import annotations

import bisect


class TempoMap:
    """Beats -> seconds for a tempo that changes at given beats (typically phrase boundaries)."""

    def __init__(self, bpm: float) -> None:
        self._beats = [0.0]  # where each tempo segment starts, in beats
        self._seconds = [0.0]  # and in seconds
        self._bpms = [bpm]

    @property
    def bpm(self) -> float:
        """The latest tempo."""
        return self._bpms[-1]

    def set_tempo(self, beat: float, bpm: float) -> None:
        """From `beat` on, play at `bpm`. Tempo changes arrive in time order."""
        if beat < self._beats[-1]:
            raise ValueError("tempo changes must come in order")
        second = self.seconds(beat)
        if beat == self._beats[-1]:  # a second change at the same beat replaces the first
            self._bpms[-1] = bpm
            return
        self._beats.append(beat)
        self._seconds.append(second)
        self._bpms.append(bpm)

    def seconds(self, beat: float) -> float:
        segment = max(bisect.bisect_right(self._beats, beat) - 1, 0)
        return self._seconds[segment] + (beat - self._beats[segment]) * 60.0 / self._bpms[segment]

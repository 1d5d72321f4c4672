"""When each JACK cycle started, on time.monotonic(), from when our process callback ran.

libjack's own answer (jack_frames_to_time, jack_get_cycle_times) comes from jackd's delay-locked
loop, and with the dummy driver at 64 frames it was measured off by up to ±35 ms in a run of a
thousand cycles (hundreds of cycles beyond two periods). Our callback's own wake-up is only ever
late (scheduling, the GIL), never early: so a cycle starts at the earliest (wake-up - frames/rate)
seen over the last cycles, plus its frames/rate. When the frame counter jumps against the clock
(a driver that stalls or restarts, a cycle skipped), an estimate falls more than a period before the
wake-up; the cycles before are then forgotten, and the wake-up taken for the start.
"""

from __future__ import annotations

from collections import deque

WINDOW = 256  # cycles the earliest wake-up is taken over (a third of a second at 64 frames / 48 kHz)
WRAP = 1 << 32  # JACK's frame counter is 32 bits: it wraps after a day at 48 kHz


class CycleClock:
    """Cycle start times from (frame counter, wake-up time) pairs, one per process callback."""

    def __init__(self, rate: int, window: int = WINDOW) -> None:
        self.rate = rate
        self._origins: deque[float] = deque(maxlen=window)  # wake-up - frames/rate, per cycle
        self._last_frame: int | None = None
        self._wraps = 0

    def cycle_start(self, frame: int, frames: int, woke: float) -> float:
        """The start of the cycle of `frames` frames whose first is `frame` (JACK's 32-bit
        counter), our callback having woken at `woke` seconds."""
        if self._last_frame is not None and frame < self._last_frame - WRAP // 2:
            self._wraps += 1
        self._last_frame = frame
        elapsed = (frame + self._wraps * WRAP) / self.rate
        self._origins.append(woke - elapsed)
        start = min(self._origins) + elapsed
        if start < woke - frames / self.rate:
            self._origins.clear()
            self._origins.append(woke - elapsed)
            start = woke
        return start

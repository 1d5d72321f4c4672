"""Physical time for the conductor: a real clock, and a virtual one that never waits.

The clock knows nothing of outputs or music; the conductor asks it the time and to wait.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on a monotonic time line."""
        ...

    def sleep_until(self, when: float, stop: threading.Event) -> bool:
        """Wait until `when`; False if `stop` was set first."""
        ...

    def unix(self, when: float) -> float:
        """The Unix time of an instant on this clock's time line (for OSC time tags)."""
        ...


class RealtimeClock:
    """`time.monotonic()`: sleeps on an event, so that stopping wakes it at once."""

    def __init__(self) -> None:
        # Read once: re-reading both clocks on every call would let a thread switch between
        # the two reads shift a time tag by tens of microseconds.
        self._unix_offset = time.time() - time.monotonic()

    def now(self) -> float:
        return time.monotonic()

    def sleep_until(self, when: float, stop: threading.Event) -> bool:
        delay = when - time.monotonic()
        if delay > 0:
            return not stop.wait(delay)
        return not stop.is_set()

    def unix(self, when: float) -> float:
        """The wall-clock (Unix) time of a monotonic instant, e.g. for OSC time tags."""
        return when + self._unix_offset


class VirtualClock:
    """Time jumps to whatever is waited for: drives the same code as fast as it can run."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def sleep_until(self, when: float, stop: threading.Event) -> bool:
        self._now = max(self._now, when)
        return not stop.is_set()

    def unix(self, when: float) -> float:
        return when


class ManualClock:
    """Time moves only when told (`advance`): a performance can be stepped through, phrase by phrase."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._moved = threading.Condition()

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        with self._moved:
            self._now += seconds
            self._moved.notify_all()

    def sleep_until(self, when: float, stop: threading.Event) -> bool:
        with self._moved:
            while self._now < when and not stop.is_set():
                self._moved.wait(0.05)  # also wakes up to notice `stop`
        return not stop.is_set()

    def unix(self, when: float) -> float:
        return when

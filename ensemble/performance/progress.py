"""How far a long job has got, where the performer looks: prompt_toolkit's bar on a terminal;
elsewhere (a log file, CI, a pipe) a line per tenth with the time left, so that an hour's
render is never silent."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import TextIO


def duration(seconds: float) -> str:
    """`38 s`, `2 min 5 s`, `6 h 45 min`: as precise as a person needs."""
    whole = round(seconds)
    if whole < 60:
        return f"{max(whole, 0)} s" if seconds >= 0.5 else "under a second"
    minutes, rest = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {rest} s" if rest and minutes < 10 else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def size(count: int) -> str:
    """Bytes in decimal units, as file managers show them: `21.3 MB`."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} bytes"


class Tenths:
    """A line on `stream` each time another tenth of `total` steps is done, with the time left
    (from the pace so far). `quiet_for`: say nothing for that many seconds, then `opening`
    (given the time it expects the whole to take) and the tenths from there: a job that ends
    sooner says nothing at all."""

    def __init__(self, total: int, label: str, stream: TextIO, unit: str, quiet_for: float = 0.0,
                 opening: Callable[[float], str] | None = None) -> None:
        self.total = max(total, 1)
        self.label = label
        self.stream = stream
        self.unit = unit
        self.done = 0
        self._quiet_for = quiet_for
        self._opening = opening
        self._started = time.perf_counter()
        self._speaking = quiet_for <= 0
        self._tenth = 0

    def advance(self) -> None:
        self.done += 1
        elapsed = time.perf_counter() - self._started
        if not self._speaking:
            if elapsed < self._quiet_for:
                return
            self._speaking = True
            if self._opening is not None:
                self._say(self._opening(elapsed * self.total / self.done))
        tenth = self.done * 10 // self.total
        if tenth <= self._tenth:
            return
        self._tenth = tenth
        left = elapsed * (self.total - self.done) / self.done
        tail = f", {duration(left)} left" if self.done < self.total else f", in {duration(elapsed)}"
        self._say(f"{self.label}: {self.done * 100 // self.total}% ({self.done} of {self.total} "
                  f"{self.unit}{tail})")

    def _say(self, line: str) -> None:
        print(line, file=self.stream, flush=True)


@contextlib.contextmanager
def shown(total: int, label: str, stream: TextIO | None, unit: str) -> Iterator[Callable[[], None]]:
    """An `advance` to call once per step: a bar on a terminal, a line per tenth elsewhere,
    nothing when `stream` is None."""
    if stream is None:
        yield lambda: None
        return
    if not stream.isatty():
        yield Tenths(total, label, stream, unit).advance
        return
    from prompt_toolkit.shortcuts import ProgressBar

    with ProgressBar(file=stream) as bar:
        yield bar(label=label, total=total).item_completed

"""A progress bar for anything that takes longer than a second."""

from __future__ import annotations

import sys
import time
from typing import TextIO

_WIDTH = 30


class Progress:
    """Redraws one line on a terminal; elsewhere (logs, CI) prints only the final line."""

    def __init__(self, total: int, label: str, stream: TextIO | None = None) -> None:
        self.total = max(total, 1)
        self.label = label
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()
        self._started = time.perf_counter()
        self._drawn = 0.0

    def update(self, done: int, detail: str = "") -> None:
        now = time.perf_counter()
        if self.interactive and (now - self._drawn > 0.1 or done >= self.total):
            self._drawn = now
            self.stream.write("\r" + self._line(done, detail))
            self.stream.flush()

    def finish(self, detail: str = "") -> None:
        prefix = "\r" if self.interactive else ""
        self.stream.write(prefix + self._line(self.total, detail) + "\n")
        self.stream.flush()

    def _line(self, done: int, detail: str) -> str:
        share = min(done / self.total, 1.0)
        filled = round(share * _WIDTH)
        elapsed = time.perf_counter() - self._started
        bar = "#" * filled + "." * (_WIDTH - filled)
        return f"{self.label} [{bar}] {share:4.0%} {elapsed:5.1f}s {detail}".rstrip()

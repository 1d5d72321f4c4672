"""Shared bits of the bench scripts: an aligned table, medians, the verdict line, and
ensemble's diagnostics (Python logging) collected for printing.

Imported as a sibling module: `python bench/NAME.py` puts bench/ first on sys.path.
"""

from __future__ import annotations

import contextlib
import logging
import statistics
import time
from collections.abc import Callable, Iterator, Sequence


def ratio(ours: float, baseline: float) -> str:
    return f"{ours / baseline:.2f}x" if baseline else "n/a"


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def spread(values: Sequence[float]) -> list[str]:
    """p50, p99 and max, in the values' unit, as a table shows them."""
    if not values:
        return ["n/a"] * 3
    ordered = sorted(values)
    return [f"{_percentile(ordered, 50):.2f}", f"{_percentile(ordered, 99):.2f}", f"{ordered[-1]:.2f}"]


def _percentile(ordered: Sequence[float], percent: float) -> float:
    """Linear interpolation between the two nearest ranks (numpy's default)."""
    position = (len(ordered) - 1) * percent / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def calls_per_second(call: Callable[[], object], seconds: float, batch: int = 50) -> float:
    """How often `call` runs a second, over at least `seconds`; the clock is read once a `batch`
    (one call may take only tens of microseconds)."""
    calls = 0
    started = time.perf_counter()
    elapsed = 0.0
    while elapsed < seconds:
        for _ in range(batch):
            call()
        calls += batch
        elapsed = time.perf_counter() - started
    return calls / elapsed


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """First column left-aligned (labels), the rest right-aligned (figures)."""
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        parts = [str(cells[0]).ljust(widths[0])]
        parts += [str(cell).rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join(parts)

    print(line(headers))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print(line(row))


def verdict(description: str, met: bool) -> None:
    print(f"target: {description} -> {'met' if met else 'NOT met'}")


class _Collect(logging.Handler):
    def __init__(self, messages: list[str]) -> None:
        super().__init__(logging.INFO)
        self.messages = messages

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def logged(messages: list[str]) -> Iterator[None]:
    """While inside, every diagnostic of ensemble's (logger "ensemble") is appended to `messages`
    instead of being shown."""
    handler = _Collect(messages)
    logger = logging.getLogger("ensemble")
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate

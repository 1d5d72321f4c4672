"""Bounded waits for tests: each one ends in time or fails the test saying what it waited for."""

from __future__ import annotations

import queue
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any


def join(thread: threading.Thread, timeout: float, what: str) -> None:
    """Joins `thread`; fails if it is still running after `timeout` s."""
    thread.join(timeout)
    if thread.is_alive():
        raise AssertionError(f"{what} was still running after {timeout:g} s")


def perform(conductor: Any, during: Callable[[Any], None] | None = None, timeout: float = 60.0) -> None:
    """Runs `conductor` to its end in a thread of its own (a hung one must not hold pytest),
    doing `during(conductor)` meanwhile; then lets the last messages cross JACK's next period."""
    thread = threading.Thread(target=conductor.run, daemon=True)
    thread.start()
    if during:
        during(conductor)
    join(thread, timeout, "the performance")
    time.sleep(0.1)


def _pump_lines(process: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    assert process.stdout is not None  # the caller opened it with stdout=PIPE
    for line in process.stdout:
        lines.put(line)
    lines.put(None)  # end of output: the process closed it or died


def wait_for_line(
    process: subprocess.Popen[str], accept: Callable[[str], bool], timeout: float, what: str
) -> str:
    """The first line of `process`'s stdout (text mode) that `accept`s; fails if the process ends
    or `timeout` s pass first. A thread reads, because readline() alone cannot time out."""
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump_lines, args=(process, lines), daemon=True).start()
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line is None:
            code = process.wait(timeout=10)
            raise AssertionError(f"{what}: the process ended (exit code {code}) first")
        if accept(line):
            return line
    raise AssertionError(f"{what}: not within {timeout:g} s")

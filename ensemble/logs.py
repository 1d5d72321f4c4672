"""Diagnostics go through Python's logging: one line each, shown where the performer looks.

`play`, `render` and friends show them on stderr; the REPL shows them above the line being typed.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import TextIO

ROOT = "ensemble"


@contextlib.contextmanager
def shown_on(stream: TextIO) -> Iterator[None]:
    """While inside, every message of ensemble's is written to `stream`, one line each."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger(ROOT)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # ours alone: no second copy from a root handler
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = True

"""What a journal is: its kind and format version, and a phrase's checksum."""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path

from ensemble.learning.chain import Attempt

# Format 2 numbers phrases from 1, as the REPL, the tables and the plot do; format 1 counted from 0.
# Format 3: notes may carry lengths (`C4:0.5`, the `rhythm` setting), and checksums cover them.
FORMAT = 3
KIND = "ensemble journal"
BOM = b"\xef\xbb\xbf"  # some editors put a UTF-8 byte-order mark before the first line


def default_path(folder: Path = Path("performances")) -> Path:
    return folder / f"{datetime.datetime.now():%Y-%m-%d-%H%M%S}.jsonl"


def checksum(attempts: list[Attempt]) -> str:
    """What a phrase's attempts were, in 12 hex digits: a replay compares its own with these."""
    text = ";".join(f"{a.agent}:{int(a.heard)}:{','.join(map(str, a.played))}{_lengths(a)}" for a in attempts)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _lengths(attempt: Attempt) -> str:
    """With rhythm, the lengths too; without, nothing: checksums of journals from before stay."""
    return "" if attempt.lengths is None else ":" + ",".join(map(str, attempt.lengths))

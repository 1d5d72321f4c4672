"""Journals: a performance recorded as JSON Lines, replayed exactly.

A header line, then one line per command with the phrase it landed on, its beat and the wall
time, and one line per phrase with a checksum of its attempts. Attempts are not stored: the
seed and the commands recompute them, and the checksums say where a replay would diverge.
Append-only and flushed line by line, so a killed recording keeps every line it finished.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ensemble import __version__
from ensemble import commands as cmd
from ensemble.errors import UserError
from ensemble.learning.chain import Attempt
from ensemble.session import DEFAULT_SEED_MELODY, DEFAULT_STEP, DEFAULT_TEMPO, Session

# Format 2 numbers phrases from 1, as the REPL, the tables and the plot do; format 1 counted from 0.
FORMAT = 2
KIND = "ensemble journal"


def default_path(folder: Path = Path("performances")) -> Path:
    return folder / f"{datetime.datetime.now():%Y-%m-%d-%H%M%S}.jsonl"


def checksum(attempts: list[Attempt]) -> str:
    """What a phrase's attempts were, in 12 hex digits: a replay compares its own with these."""
    text = ";".join(f"{a.agent}:{int(a.heard)}:{','.join(map(str, a.played))}" for a in attempts)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class Recorder:
    """Observes a session from its very start, so that a recording begun at any time (`record on`
    after an hour) still holds everything: each applied command with its phrase, and each
    phrase's checksum."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._entries: list[dict[str, Any]] = []
        self._writer: JournalWriter | None = None
        self._lock = threading.Lock()
        session.observe(self)

    @property
    def writer(self) -> JournalWriter | None:
        return self._writer

    def applied(self, phrase: int, beat: float, command: cmd.Command) -> None:
        self._add({"phrase": phrase + 1, "beat": beat, "time": round(time.time(), 3),
                   "command": str(command)})

    def composed(self, phrase: int, attempts: list[Attempt]) -> None:
        self._add({"phrase": phrase + 1, "checksum": checksum(attempts)})

    def commands(self) -> list[tuple[int, str]]:
        """(phrase, numbered from 1; command) of every command applied so far."""
        with self._lock:
            return [(entry["phrase"], entry["command"]) for entry in self._entries if "command" in entry]

    def start(self, path: Path, outputs: list[str]) -> JournalWriter:
        """Write the journal to `path`: what happened so far, then as it happens."""
        with self._lock:
            if self._writer is not None:
                raise UserError(f"already recording to {self._writer.path}")
            writer = JournalWriter(path, self.session.seed, outputs)
            for entry in self._entries:
                writer.write(entry)
            self._writer = writer
        return writer

    def stop(self) -> JournalWriter | None:
        """Close the journal being written, if any, and say which it was."""
        with self._lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
        return writer

    def _add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)
            if self._writer is not None:
                self._writer.write(entry)


class JournalWriter:
    """One journal file: the header, then lines appended and flushed one by one."""

    def __init__(self, path: Path, seed: int, outputs: list[str]) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file: TextIO | None = path.open("x", encoding="utf-8")  # never over an old one
        except FileExistsError:
            raise UserError(f"{path} exists already; choose another file") from None
        except OSError as error:
            raise UserError(f"cannot write {path}: {error.strerror or error}") from None
        self.write({"kind": KIND, "format": FORMAT, "version": __version__, "seed": seed,
                    "tempo": DEFAULT_TEMPO, "step": DEFAULT_STEP, "melody": str(DEFAULT_SEED_MELODY),
                    "outputs": outputs,
                    "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds")})

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def write(self, line: dict[str, Any]) -> None:
        if self._file is None:
            return
        self._file.write(json.dumps(line, separators=(",", ":")) + "\n")
        self._file.flush()  # a killed process loses at most the line it was writing


@dataclass
class Journal:
    path: Path
    header: dict[str, Any]
    commands: dict[int, list[cmd.Command]] = field(default_factory=dict)  # phrase -> applied there
    checksums: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def seed(self) -> int:
        return int(self.header["seed"])

    @property
    def phrases(self) -> int:
        return len(self.checksums)


def read_journal(path: Path) -> Journal:
    """Read and check a journal; a torn last line is reported and skipped, anything else bad is an error."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"cannot read journal {path}: {getattr(error, 'strerror', None) or error}") from None
    lines = text.split("\n")
    complete = lines[:-1]  # the text after the last newline is a line still being written
    if not complete or not complete[0].strip():
        raise UserError(f"{path}: empty: not a journal")
    journal = Journal(path, _header(path, complete[0]))
    for number, line in enumerate(complete[1:], start=2):
        _read_line(journal, number, line)
    if lines[-1].strip():
        journal.warnings.append(f"{path}:{len(lines)}: the last line was cut off (the recording was "
                                f"stopped mid-line); replaying up to the line before")
    return journal


def _parse(path: Path, number: int, line: str) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as error:
        raise UserError(f"{path}:{number}: not a journal line ({error.msg})") from None
    if not isinstance(value, dict):
        raise UserError(f"{path}:{number}: not a journal line")
    return value


def _header(path: Path, line: str) -> dict[str, Any]:
    header = _parse(path, 1, line)
    if header.get("kind") != KIND:
        raise UserError(f"{path}:1: not an ensemble journal")
    if not isinstance(header.get("format"), int) or header["format"] > FORMAT:
        raise UserError(f"{path}:1: journal format {header.get('format')} is newer than this ensemble "
                        f"({__version__}) reads (format {FORMAT}); update ensemble to replay it")
    if not isinstance(header.get("seed"), int):
        raise UserError(f"{path}:1: the header has no seed")
    return header


def _read_line(journal: Journal, number: int, line: str) -> None:
    if not line.strip():
        return
    entry = _parse(journal.path, number, line)
    first = 0 if journal.header["format"] == 1 else 1  # the number of the first phrase
    written = entry.get("phrase")
    if not isinstance(written, int) or written < first:
        raise UserError(f"{journal.path}:{number}: a journal line needs a phrase number")
    phrase = written - first  # an index from here on
    if "checksum" in entry:
        if phrase != len(journal.checksums):
            raise UserError(f"{journal.path}:{number}: phrase {written} is out of order "
                            f"(expected {len(journal.checksums) + first})")
        journal.checksums.append(str(entry["checksum"]))
    elif "command" in entry:
        try:
            command = cmd.parse_command(str(entry["command"]), cmd.Where.JOURNAL)
        except UserError as error:
            raise UserError(f"{journal.path}:{number}: {error}") from None
        if command is not None:
            journal.commands.setdefault(phrase, []).append(command)
    else:
        raise UserError(f"{journal.path}:{number}: neither a command nor a checksum")

"""The recorder: observes a session from its very start, so a journal can begin at any time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ensemble import commands as cmd
from ensemble.errors import UserError
from ensemble.learning.chain import Attempt
from ensemble.performance.journal.form import checksum
from ensemble.performance.journal.writer import JournalWriter
from ensemble.session import Session


class Recorder:
    """Observes a session from its very start, so that a recording begun at any time (`record on`
    after an hour) still holds everything: each applied command with its phrase, and each
    phrase's checksum."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._entries: list[dict[str, Any]] = []
        self._writer: JournalWriter | None = None
        self._lock = threading.Lock()
        # The wall-clock (Unix) time at which a beat sounds, once the performance has placed it:
        # the runner knows, a session alone does not. Each phrase line then says when its phrase
        # began, so that the journals of laptops that played together can be laid on one time
        # line (`ensemble render` of several journals).
        self.wall_time: Callable[[float], float | None] = lambda beat: None
        session.observe(self)

    @property
    def writer(self) -> JournalWriter | None:
        """The journal being saved, if any (not one whose writes have failed)."""
        writer = self._writer
        return writer if writer is not None and writer.failure is None else None

    def applied(self, phrase: int, beat: float, command: cmd.Command) -> None:
        self._add({"phrase": phrase + 1, "beat": beat, "time": round(time.time(), 3),
                   "command": str(command)})

    def composed(self, phrase: int, attempts: list[Attempt]) -> None:
        entry: dict[str, Any] = {"phrase": phrase + 1, "checksum": checksum(attempts)}
        start = self.wall_time(self.session.beat)  # the session's beat is still this phrase's first
        if start is not None:
            entry["start"] = round(start, 4)  # to a tenth of a millisecond: a few samples
        self._add(entry)

    def commands(self) -> list[tuple[int, str]]:
        """(phrase, numbered from 1; command) of every command applied so far."""
        with self._lock:
            return [(entry["phrase"], entry["command"]) for entry in self._entries if "command" in entry]

    def start(self, path: Path, outputs: list[str]) -> JournalWriter:
        """Write the journal to `path`: what happened so far, then as it happens. The file is
        created now if the performance has begun, else with its first phrase or command. Raises
        UserError (and nothing is written) when `path` cannot be a new journal."""
        with self._lock:
            if self.writer is not None:
                raise UserError(f"already recording to {self.writer.path}")
            writer = JournalWriter(path, self.session.seed, outputs)
            if self._entries:
                writer.create()
            for entry in self._entries:
                writer.write(entry)
            if self._writer is not None:  # one whose writes failed: the new one takes over
                self._writer.close()
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

"""One journal file, written a whole line at a time; a failing write never reaches the music."""

from __future__ import annotations

import contextlib
import datetime
import errno
import json
import logging
import os
from pathlib import Path
from typing import Any

from ensemble import __version__
from ensemble.errors import UserError
from ensemble.performance.journal.form import FORMAT, KIND
from ensemble.session import DEFAULT_SEED_MELODY, DEFAULT_STEP, DEFAULT_TEMPO

log = logging.getLogger(__name__)


class JournalWriter:
    """One journal file: the header, then lines appended one whole line at a time.

    The path is checked at once and the file created with the first line after the header.
    Nothing here raises once the performance is under way: a failing write is reported in one
    line (`failure` says why) and the journal ends at its last complete line.
    """

    def __init__(self, path: Path, seed: int, outputs: list[str]) -> None:
        self.path = path
        self.seed = seed
        self.outputs = outputs
        self.failure: str | None = None  # why the journal is no longer being saved
        self.last_phrase: int | None = None  # the last phrase whose checksum line is saved
        self._fd: int | None = None
        self._size = 0  # bytes of complete lines in the file
        self._closed = False
        _check_new(path)

    @property
    def created(self) -> bool:
        return self._size > 0

    def create(self) -> None:
        """Create the file and write the header. Raises UserError, leaving no file, when it cannot."""
        if self._fd is not None or self._closed:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        except FileExistsError:
            raise UserError(f"{self.path} exists already; choose another file") from None
        except OSError as error:
            raise UserError(f"cannot write {self.path}: {error.strerror or error}") from None
        header = {"kind": KIND, "format": FORMAT, "version": __version__, "seed": self.seed,
                  "tempo": DEFAULT_TEMPO, "step": DEFAULT_STEP, "melody": str(DEFAULT_SEED_MELODY),
                  "outputs": self.outputs,
                  "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds")}
        try:
            self._append(header)
        except OSError as error:  # not even the header fits: a file with nothing in it is no journal
            self._close_file()
            self.path.unlink(missing_ok=True)
            raise UserError(f"cannot write {self.path}: {error.strerror or error}") from None

    def write(self, entry: dict[str, Any]) -> None:
        """Append one line; never raises (see the class)."""
        if self.failure is not None or self._closed:
            return
        try:
            self.create()
        except UserError as error:
            self._fail(f"{error}; the performance is not being recorded")
            return
        try:
            self._append(entry)
        except OSError as error:
            self._cut_torn_line()
            self._fail(f"journal {self.path}: no longer being saved ({error.strerror or error}); "
                       f"it stops {self.stops}; the performance plays on")

    def close(self) -> None:
        self._closed = True
        self._close_file()

    def _append(self, entry: dict[str, Any]) -> None:
        if self._fd is None:
            return
        data = (json.dumps(entry, separators=(",", ":")) + "\n").encode()
        view = memoryview(data)
        while view:  # one write, unless the disk is filling up: then the rest, or an error
            written = os.write(self._fd, view)
            if written == 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            view = view[written:]
        self._size += len(data)
        if "checksum" in entry:
            self.last_phrase = entry["phrase"]

    def _cut_torn_line(self) -> None:
        """Take back the part of a line that was written before the write failed; shrinking a
        file needs no space, and is allowed above a file-size limit."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):  # if not, the reader skips a torn last line anyway
            os.ftruncate(self._fd, self._size)

    @property
    def stops(self) -> str:
        """Where the saved journal ends, in words."""
        return "before its first phrase" if self.last_phrase is None else f"after phrase {self.last_phrase}"

    def _fail(self, message: str) -> None:
        self.failure = message
        self._close_file()
        log.error("%s", message)

    def _close_file(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):  # what was written is in the file already
                os.close(fd)


def _check_new(path: Path) -> None:
    """Raise UserError unless a new file can be made at `path` (without making it)."""
    if path.exists() or path.is_symlink():
        raise UserError(f"{path} exists already; choose another file")
    folder = path.absolute().parent
    while not folder.exists():  # it will be made: what matters is the first folder that is there
        folder = folder.parent
    if not folder.is_dir():
        raise UserError(f"cannot write {path}: {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"cannot write {path}: {folder} is not writable")

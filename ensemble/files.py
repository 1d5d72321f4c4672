"""Files that appear complete or not at all, and outputs that never land on an input.

A file is written beside its target under a hidden name (`take.wav` -> `.take.wav.partial`),
flushed to the disk and renamed over the target only once it is whole: a write that fails, is
interrupted or is killed never leaves a truncated file at the target, and an earlier file there
stays as it was until the new one replaces it in one step. A partial file is locked while it is
written; one left behind by `kill -9` is unlocked, and the next write to the same target takes
it over (and so removes it).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from ensemble.errors import UserError

PARTIAL_SUFFIX = ".partial"


def partial_path(target: Path) -> Path:
    """Where `target` is written until it is complete: hidden, beside it (the same file system,
    so the final rename is atomic), and named for what it is."""
    return target.with_name(f".{target.name}{PARTIAL_SUFFIX}")


def same_file(a: Path, b: Path) -> bool:
    """One file under two names: another spelling, a symbolic or a hard link."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one does not exist yet: the same name once links and `..` are resolved
        return os.path.realpath(a) == os.path.realpath(b)


def refuse_overlaps(inputs: Mapping[str, Path], outputs: Mapping[str, Path]) -> None:
    """Refuse, before anything is read or written, an output that is an input (it would be lost)
    or two outputs that are one file (one would be lost). Keys say how each was given, e.g.
    {"the script": ...} and {"--out": ..., "--midi": ...}."""
    named = list(outputs.items())
    for flag, output in named:
        for what, source in inputs.items():
            if same_file(output, source) or same_file(partial_path(output), source):
                named_so = "" if output == source else f" ({source})"
                raise UserError(f"{flag} {output} is {what}{named_so}: writing there would destroy it; "
                                f"choose another file")
    for index, (flag, output) in enumerate(named):
        for other_flag, other in named[index + 1:]:
            if same_file(output, other) or same_file(output, partial_path(other)) or \
                    same_file(partial_path(output), other):
                raise UserError(f"{flag} {output} and {other_flag} {other} are one file; give each its own")


class PartialFile:
    """One file being written in place of `target`: `path` is where to write; `commit` puts it
    in the target's place once complete, `discard` removes it.

    Created up front, it also checks that the target can be written, before any work is done.
    A target that is a device or a pipe (`/dev/null`) cannot be replaced: it is written in place.
    """

    def __init__(self, target: Path) -> None:
        self.target = target
        # Through a symbolic link the file it names is replaced, never the link.
        self._real = Path(os.path.realpath(target))
        try:
            existing: os.stat_result | None = self._real.stat()
        except FileNotFoundError:
            existing = None
        except OSError as error:
            raise self._cannot(error) from None
        if existing is not None and stat.S_ISDIR(existing.st_mode):
            raise UserError(f"cannot write {target}: it is a folder")
        if existing is not None and not os.access(self._real, os.W_OK):
            raise UserError(f"cannot write {target}: Permission denied")
        self.in_place = existing is not None and not stat.S_ISREG(existing.st_mode)
        self._mode = None if existing is None else stat.S_IMODE(existing.st_mode)
        self.path = self._real if self.in_place else partial_path(self._real)
        self._fd: int | None = None if self.in_place else self._claim()

    def commit(self) -> None:
        """The complete file takes the target's place, in one step, once its bytes are on disk."""
        if self._fd is None:
            return
        try:
            if self._mode is not None:
                os.fchmod(self._fd, self._mode)  # a replaced file keeps its permissions
            os.fsync(self._fd)  # the data is on disk before any name points at it
            os.replace(self.path, self._real)
        except OSError as error:
            self.discard()
            raise self._cannot(error) from None
        _sync_folder(self._real.parent)  # and the rename itself survives a power cut
        self._close()

    def discard(self) -> None:
        """Remove what was written: the target stays as it was."""
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._close()

    def _claim(self) -> int:
        """Create (or take over a dead writer's) partial file, locked, and empty."""
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
            except OSError as error:
                raise self._cannot(error) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise UserError(f"cannot write {self.target}: another process is writing it "
                                f"({self.path.name} is locked)") from None
            # The one who held it may have renamed it into place meanwhile: then start again.
            if _same_inode(fd, self.path):
                os.ftruncate(fd, 0)
                return fd
            os.close(fd)

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # releases the lock
            self._fd = None

    def _cannot(self, error: OSError) -> UserError:
        return UserError(f"cannot write {self.target}: {error.strerror or error}")


@contextlib.contextmanager
def written_together(targets: Sequence[Path]) -> Iterator[list[PartialFile]]:
    """Partial files for `targets`, created at once (a target that cannot be written fails here,
    before any work). Inside, write each at its `path`; leaving normally puts them all in place,
    leaving by any exception (Ctrl-C too) removes them all and leaves every target untouched."""
    partials: list[PartialFile] = []
    try:
        for target in targets:
            partials.append(PartialFile(target))
        yield partials
    except BaseException:
        for partial in partials:
            partial.discard()
        raise
    for index, partial in enumerate(partials):
        try:
            partial.commit()
        except BaseException:
            for rest in partials[index + 1:]:
                rest.discard()
            raise


def _same_inode(fd: int, path: Path) -> bool:
    try:
        on_disk = path.stat()
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (on_disk.st_dev, on_disk.st_ino)


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return  # some file systems cannot open a folder: the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

"""Reading a journal: a bad header refuses it; a damaged body line ends it, keeping what came before."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ensemble import __version__
from ensemble import commands as cmd
from ensemble.commands.language import strip_comment
from ensemble.errors import UserError
from ensemble.performance.journal.form import BOM, FORMAT, KIND
from ensemble.safe_text import printable

MESSAGE_LIMIT = 200  # characters of a message quoting a journal's text


@dataclass
class Journal:
    path: Path
    header: dict[str, Any]
    commands: dict[int, list[cmd.Command]] = field(default_factory=dict)  # phrase -> applied there
    checksums: list[str] = field(default_factory=list)
    # phrase (from 0) -> the wall-clock (Unix) time it began, where the journal says (played live)
    starts: dict[int, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def seed(self) -> int:
        return int(self.header["seed"])

    @property
    def phrases(self) -> int:
        return len(self.checksums)

    @property
    def first_phrase(self) -> int:
        """The number the journal gives its first phrase (format 1 counted from 0)."""
        return 0 if self.header["format"] == 1 else 1


class _Damaged(Exception):
    """A body line that cannot be read: the journal ends before it."""


def read_journal(path: Path) -> Journal:
    """Read and check a journal. A bad header raises UserError (one line). In the body, the first
    line that cannot be read (torn, garbage, a flipped byte) ends the journal there: the phrases
    before it are kept, with one warning naming the line. A command a journal cannot hold (one
    for the REPL or for scripts) is skipped with a warning of its own."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UserError(f"cannot read journal {path}: {error.strerror or error}") from None
    lines = data.removeprefix(BOM).split(b"\n")
    complete, torn = lines[:-1], lines[-1]  # the bytes after the last newline: a line being written
    if not any(line.strip() for line in lines):
        raise UserError(f"{path}: empty: not a journal")
    if not complete:
        raise UserError(f"{path}:1: the header line was cut off: not a journal")
    journal = Journal(path, _header(path, complete[0]))
    for number, line in enumerate(complete[1:], start=2):
        try:
            _read_line(journal, number, line)
        except _Damaged as damage:
            later = len(complete) - number + (1 if torn.strip() else 0)
            journal.warnings.append(f"{path}:{number}: {damage}; replaying the {_phrases(journal.phrases)} "
                                    f"before it ({_lines(later)} after it left out)")
            return journal
    if torn.strip():
        journal.warnings.append(f"{path}:{len(lines)}: the last line was cut off (the recording was "
                                f"stopped mid-line); replaying the {_phrases(journal.phrases)} before it")
    return journal


def _phrases(count: int) -> str:
    return f"{count} phrase" + ("" if count == 1 else "s")


def _lines(count: int) -> str:
    return f"{count} line" + ("" if count == 1 else "s")


def _parse(line: bytes) -> dict[str, Any]:
    """One line's JSON object; raises _Damaged saying why it is not one."""
    try:
        value = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        raise _Damaged("not a journal line (not UTF-8 text)") from None
    except json.JSONDecodeError as error:
        raise _Damaged(f"not a journal line ({error.msg})") from None
    except RecursionError:
        raise _Damaged("not a journal line (nested too deeply)") from None
    except ValueError:  # an integer of thousands of digits
        raise _Damaged("not a journal line (a number too long)") from None
    if not isinstance(value, dict):
        raise _Damaged("not a journal line")
    return value


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # JSON's true is no number


def _shown(value: object) -> str:
    """A value from a journal, as a short printable word."""
    if isinstance(value, str):
        return printable(json.dumps(value, ensure_ascii=False))
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int | float):
        return printable(str(value))
    return "a list" if isinstance(value, list) else "an object"


# Header fields the reader does not need but ensemble always writes: damaged if of another kind.
_INFORMATION: dict[str, tuple[type, ...]] = {
    "version": (str,), "tempo": (int, float), "step": (int, float), "melody": (str,), "outputs": (list,),
    "started": (str,)}


def _header(path: Path, line: bytes) -> dict[str, Any]:
    """The header, checked field by field: without a sound one there is nothing to replay."""
    try:
        header = _parse(line)
    except _Damaged as damage:
        raise UserError(f"{path}:1: {damage}") from None
    if header.get("kind") != KIND:
        raise UserError(f"{path}:1: not an ensemble journal")
    if "format" not in header:
        raise UserError(f"{path}:1: the header has no format")
    form = header["format"]
    if _is_whole(form) and form > FORMAT:
        raise UserError(f"{path}:1: journal format {form} is newer than this ensemble "
                        f"({__version__}) reads (format {FORMAT}); update ensemble to replay it")
    if not _is_whole(form) or form < 1:
        raise UserError(f"{path}:1: unknown journal format {_shown(form)} (this ensemble reads formats "
                        f"1 to {FORMAT})")
    if "seed" not in header:
        raise UserError(f"{path}:1: the header has no seed")
    seed = header["seed"]
    if not _is_whole(seed) or seed < 0:
        raise UserError(f"{path}:1: the header's seed must be a whole number >= 0, not {_shown(seed)}")
    for name, kinds in _INFORMATION.items():
        value = header.get(name)
        if name in header and (not isinstance(value, kinds) or isinstance(value, bool)):
            raise UserError(f"{path}:1: the header's {name} is damaged ({_shown(value)})")
    return header


def _read_line(journal: Journal, number: int, line: bytes) -> None:
    if not line.strip():
        return
    entry = _parse(line)
    first = journal.first_phrase
    written = entry.get("phrase")
    if not isinstance(written, int) or isinstance(written, bool) or written < first:
        raise _Damaged("a journal line needs a phrase number")
    expected = journal.phrases + first  # commands and a checksum for the next phrase, in this order
    if written != expected:
        raise _Damaged(f"phrase {_shown(written)} is out of order (expected {expected})")
    if "checksum" in entry:
        if not isinstance(entry["checksum"], str):
            raise _Damaged("the checksum is not text")
        if "start" in entry:  # optional: journals of renders, and of older versions, have none
            start = entry["start"]
            if not isinstance(start, int | float) or isinstance(start, bool) or not math.isfinite(start):
                raise _Damaged("the phrase's start time is not a number")
            journal.starts[written - first] = float(start)
        journal.checksums.append(entry["checksum"])
    elif "command" in entry:
        command = _command(journal, number, entry["command"])
        if command is not None:
            journal.commands.setdefault(written - first, []).append(command)
    else:
        raise _Damaged("neither a command nor a checksum")


_PLACES = ((cmd.Where.SCRIPT, "scripts"), (cmd.Where.REPL, "the REPL"))  # where else a command may be


def _command(journal: Journal, number: int, text: object) -> cmd.Command | None:
    """The command on a line; None (with a warning) for one a journal cannot hold."""
    if not isinstance(text, str):
        raise _Damaged("the command is not text")
    words = strip_comment(text).split(maxsplit=1)
    declared = cmd.COMMANDS.get(words[0].lower()) if words else None
    if declared is not None and not declared.where & cmd.Where.JOURNAL:
        places = " and ".join(name for flag, name in _PLACES if declared.where & flag)
        journal.warnings.append(f"{journal.path}:{number}: '{declared.name}' is for {places}; journals "
                                f"cannot use it: skipped")
        return None
    try:
        return cmd.parse_command(text, cmd.Where.JOURNAL)
    except UserError as error:
        raise _Damaged(printable(str(error), MESSAGE_LIMIT)) from None

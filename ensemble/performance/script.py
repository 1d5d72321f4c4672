"""Performance scripts: text files of commands, checked whole before anything plays."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ensemble.commands import Command, Where, parse_command
from ensemble.errors import UserError


@dataclass(frozen=True)
class ScriptLine:
    number: int
    command: Command


def parse_script(text: str, name: str = "<script>") -> list[ScriptLine]:
    """All commands of a script; the first bad line raises `name:line: message`."""
    lines = []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            command = parse_command(line, Where.SCRIPT)
        except UserError as error:
            raise UserError(f"{name}:{number}: {error}") from None
        if command is not None:
            lines.append(ScriptLine(number, command))
    return lines


def load_script(path: Path) -> list[ScriptLine]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"cannot read script {path}: {getattr(error, 'strerror', None) or error}") from None
    return parse_script(text, str(path))

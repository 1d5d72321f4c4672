"""Performance scripts: text files of commands, checked whole before anything plays."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ensemble.commands import Command, Wait, parse_command
from ensemble.errors import UserError
from ensemble.events import Phrase
from ensemble.session import Session


@dataclass(frozen=True)
class ScriptLine:
    number: int
    command: Command


def parse_script(text: str, name: str = "<script>") -> list[ScriptLine]:
    """All commands of a script; the first bad line raises `name:line: message`."""
    lines = []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            command = parse_command(line)
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


def script_phrases(lines: list[ScriptLine], session: Session) -> Iterator[Phrase]:
    """Play a script through a session: commands go in as they come, `wait N` yields N phrases."""
    for line in lines:
        if isinstance(line.command, Wait):
            for _ in range(line.command.phrases):
                yield session.next_phrase()
        else:
            session.submit(line.command)

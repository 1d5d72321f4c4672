"""How a command is declared once, and everything derived from its declaration.

A command is a frozen dataclass whose fields are its arguments, each with a kind (see kinds.py).
From that one declaration come parsing, `str()` (which parses back to the same command), the
usage and help lines, Tab completion, typo hints, the agent names to check, and where the
command is allowed (scripts, journals, the REPL).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from ensemble.errors import UserError
from ensemble.hints import hint
from ensemble.safe_text import printable


class Where(enum.Flag):
    SCRIPT = enum.auto()
    JOURNAL = enum.auto()
    REPL = enum.auto()


PERFORMANCE = Where.SCRIPT | Where.JOURNAL | Where.REPL  # what changes the music: allowed anywhere
_PLACES = {Where.SCRIPT: "scripts", Where.JOURNAL: "journals", Where.REPL: "the REPL"}


@dataclass(frozen=True)
class Context:
    """What completion and checks can know of the running performance."""

    agents: tuple[str, ...] = ()  # the agents there will be once pending commands land
    outputs: tuple[str, ...] = ()  # destinations one could add (`out add`) or is playing on
    outside: tuple[str, ...] = ()  # agents the peers share (`alice/a3`)


class Kind(Protocol):
    """How one argument is read from words, written back, and offered for completion."""

    @property
    def metavar(self) -> str: ...

    @property
    def variadic(self) -> bool:
        """Whether it takes every remaining word."""
        ...

    def parse(self, words: list[str]) -> Any:
        """One word (or all the rest, when variadic) -> the value. Raises UserError."""
        ...

    def format(self, value: Any) -> str: ...

    def complete(self, word: str, context: Context) -> list[tuple[str, str]]:
        """(completion, what it means) pairs for the word being typed."""
        ...

    def agents(self, value: Any) -> list[str]:
        """The agent names the value refers to, for checking that they exist."""
        ...


def arg(kind: Kind, **options: Any) -> Any:
    """A command argument of `kind`; `default=` makes it optional."""
    return field(metadata={"kind": kind}, **options)


@dataclass(frozen=True)
class Arg:
    name: str
    kind: Kind
    optional: bool
    default: Any

    @property
    def usage(self) -> str:
        text = self.kind.metavar + (" ..." if self.kind.variadic else "")
        return f"[{text}]" if self.optional else text


class Command:
    """The base of every declared command (see `command`)."""

    name: ClassVar[str]
    help: ClassVar[str]
    where: ClassVar[Where]
    not_here: ClassVar[str]  # said when it is typed in the REPL, where it is not allowed
    args: ClassVar[tuple[Arg, ...]]
    declared_usage: ClassVar[str | None] = None

    def __str__(self) -> str:
        words = [self.name]
        for argument in self.args:
            value = getattr(self, argument.name)
            if argument.optional and value is None:
                continue
            words.append(argument.kind.format(value))
        return " ".join(words)

    def agents(self) -> list[str]:
        """Every agent this command names (not `all`, not `seed`)."""
        return [name for argument in self.args for name in argument.kind.agents(getattr(self, argument.name))]

    @classmethod
    def usage(cls) -> str:
        return cls.declared_usage or " ".join([cls.name, *(argument.usage for argument in cls.args)])

    @classmethod
    def help_line(cls) -> str:
        return f"{cls.usage():<30} {cls.help}"


COMMANDS: dict[str, type[Command]] = {}
C = TypeVar("C", bound=type[Command])
C2 = TypeVar("C2", bound=Command)
H = TypeVar("H")  # whoever handles: the session, the stage
R = TypeVar("R")


def command(help: str, where: Where = PERFORMANCE, not_here: str = "",
            name: str | None = None, usage: str | None = None) -> Callable[[C], C]:
    """Declare a command: the class's name in lower case is what is typed, unless `name` says
    otherwise (two words, `seed midi`: a command of its own beside `seed`). `usage`: its usage
    line, where the arguments' own would mislead (two that come together)."""

    def declare(cls: C) -> C:
        cls.name = name or cls.__name__.lower()
        cls.help, cls.where, cls.not_here = help, where, not_here
        cls.declared_usage = usage
        cls.args = tuple(_arg(f) for f in fields(cls))  # type: ignore[arg-type]
        COMMANDS[cls.name] = cls
        return cls

    return declare


def _arg(declared: Field[Any]) -> Arg:
    optional = declared.default is not MISSING
    return Arg(declared.name, declared.metadata["kind"], optional, declared.default if optional else None)


class Handlers(Generic[H]):
    """A table from kinds of command to the methods that handle them, filled by decorating:

        handles = Handlers()
        @handles(Seed)
        def _seed(self, command: Seed) -> None: ...
    """

    def __init__(self) -> None:
        self.table: dict[type[Command], Callable[[H, Any], Any]] = {}

    def __call__(self, kind: type[C2]) -> Callable[[Callable[[H, C2], R]], Callable[[H, C2], R]]:
        def register(handler: Callable[[H, C2], R]) -> Callable[[H, C2], R]:
            self.table[kind] = handler
            return handler

        return register

    def __contains__(self, kind: object) -> bool:
        return kind in self.table

    def get(self, kind: type[Command]) -> Callable[[H, Any], Any] | None:
        return self.table.get(kind)


# A `#` with nothing but whitespace (or the line's start) before it: F#4 is a note. Written to
# begin with the `#` so the search skips ahead to each one: a pasted megabyte is scanned at once.
_COMMENT = re.compile(r"#(?<!\S#)")


def strip_comment(line: str) -> str:
    return _COMMENT.split(line, maxsplit=1)[0].strip()


def parse_command(line: str, where: Where = Where.REPL) -> Command | None:
    """One line -> a command; None for a blank line or a comment. Raises UserError when invalid
    or not allowed `where` it was written."""
    text = strip_comment(line)
    if not text:
        return None
    word, *words = text.split()
    if words and f"{word} {words[0]}".lower() in COMMANDS:
        word, words = f"{word} {words[0]}", words[1:]
    declared = COMMANDS.get(word.lower())
    if declared is None:
        raise UserError(f"unknown command '{printable(word)}'{hint(word.lower(), COMMANDS, 'commands')}")
    if not declared.where & where:
        places = " and ".join(text for place, text in _PLACES.items() if place & declared.where)
        reason = (declared.not_here if where is Where.REPL else "") or f"{_PLACES[where]} cannot use it"
        raise UserError(f"'{declared.name}' is for {places}; {reason}")
    return _build(declared, words)


def _build(declared: type[Command], words: list[str]) -> Command:
    values: dict[str, Any] = {}
    position = 0
    for argument in declared.args:
        taken = words[position:] if argument.kind.variadic else words[position:position + 1]
        if not taken:
            if argument.optional:
                continue
            raise UserError(f"usage: {declared.usage()}")
        position += len(taken)
        values[argument.name] = argument.kind.parse(taken)
    if position < len(words):
        raise UserError(f"usage: {declared.usage()}")
    return declared(**values)

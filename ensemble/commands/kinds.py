"""The kinds of argument a command takes: how each is read, written, offered and checked."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ensemble.commands.language import Context
from ensemble.errors import UserError
from ensemble.hints import hint
from ensemble.learning.settings import LEARNING, LearningSettings
from ensemble.melody import SCALES, Melody
from ensemble.outputs.destinations import FORMS, check_spec
from ensemble.peers.names import outside_agent, parse_address
from ensemble.safe_text import printable
from ensemble.values import Spec, format_value, parse_value
from ensemble.voicing import VOICING, Voicing

AGENT_NAME = re.compile(r"^a\d{1,4}$")
# The longest words taken as they are (and so shown whole, in replies and messages, and kept in
# the journal): anything longer is a paste gone wrong, refused and shown cut short.
PATH_MAX = 4096  # a file name: the longest path Linux opens
DESTINATION_MAX = 320  # an output: a host name and port, or a JACK port's full name
VALUE_MAX = 100  # a setting's value: a number, a choice or a palette
SETTINGS: dict[str, Spec] = {**LEARNING, **VOICING}  # what `set` changes: learning, then sound
DEFAULTS: dict[str, str] = {key: format_value(getattr(LearningSettings(), key, None)) for key in LEARNING} | {
    key: format_value(getattr(Voicing(), key)) for key in VOICING}


def setting_help(key: str) -> str:
    """What a setting allows, and its default: for `help set` and completion."""
    return f"{SETTINGS[key].allowed} (default {DEFAULTS[key]})"


def _offer(word: str, options: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(text, meaning) for text, meaning in options if text.startswith(word) and text != word]


class _Single:
    """A kind that takes exactly one word (unless it says it is variadic): what most kinds share."""

    metavar = "VALUE"
    variadic = False

    def parse(self, words: list[str]) -> Any:
        return self.read(words[0])

    def read(self, word: str) -> Any:
        return word

    def format(self, value: Any) -> str:
        return str(value)

    def complete(self, word: str, context: Context) -> list[tuple[str, str]]:
        return []

    def agents(self, value: Any) -> list[str]:
        return []


@dataclass(frozen=True)
class AgentRef(_Single):
    """An agent's name, or also `all` (every agent), `seed` (the melody) or an agent on another
    laptop (`alice/a3`, `outside`) where they fit."""

    everyone: bool = False
    seed: bool = False
    outside: bool = False
    metavar: str = "AGENT"

    def read(self, word: str) -> str:
        if ((self.everyone and word == "all") or (self.seed and word == "seed") or AGENT_NAME.match(word)
                or (self.outside and outside_agent(word))):
            return word
        extra = ", or all" if self.everyone else ", or seed" if self.seed else ""
        extra += ", or PEER/AGENT on another laptop" if self.outside else ""
        raise UserError(f"'{printable(word)}' is not an agent name (a0, a1, ...{extra})")

    def complete(self, word: str, context: Context) -> list[tuple[str, str]]:
        options = [(name, "agent") for name in context.agents]
        options += [("all", "every agent")] if self.everyone else []
        options += [("seed", "the seed melody")] if self.seed else []
        options += [(name, "on another laptop") for name in context.outside] if self.outside else []
        return _offer(word, options)

    def agents(self, value: Any) -> list[str]:
        return [] if value is None or value in ("all", "seed") or outside_agent(value) else [value]


@dataclass(frozen=True)
class Number(_Single):
    """A whole number or a number within a range."""

    metavar: str = "N"
    whole: bool = True
    low: float = 0
    high: float = 1

    def read(self, word: str) -> float | int:
        try:
            value: float | int = int(word) if self.whole else float(word)
        except ValueError:
            value = self.low - 1
        if not self.low <= value <= self.high:
            raise UserError(f"{self.metavar} must be {'a whole number' if self.whole else 'a number'} "
                            f"from {self.low:g} to {self.high:g}, not '{printable(word)}'")
        return value

    def format(self, value: Any) -> str:
        if not isinstance(value, float):
            return str(value)
        short = f"{value:g}"  # as a performer writes it, when that is exactly the value
        return short if float(short) == value else repr(value)  # else every digit: it must read back

    def complete(self, word: str, context: Context) -> list[tuple[str, str]]:
        """Nothing to insert, but the range is shown where the number goes."""
        return [] if word else [("", f"{self.metavar}: {self.low:g} to {self.high:g}")]


@dataclass(frozen=True)
class Choice(_Single):
    options: tuple[str, ...] = ()
    metavar: str = ""

    def read(self, word: str) -> str:
        if word not in self.options:
            raise UserError(f"'{printable(word)}' is not one of {', '.join(self.options)}"
                            f"{hint(word, self.options, 'choose from') if len(self.options) > 2 else ''}")
        return word

    def complete(self, word: str, context: Context) -> list[tuple[str, str]]:
        return _offer(word, [(option, "") for option in self.options])


@dataclass(frozen=True)
class NumberOr(_Single):
    """A whole number in a range, or one of a few words (`8`, `follow`, `off`)."""

    number: Number = Number()
    words: tuple[str, ...] = ()
    metavar: str = "N"

    def __post_init__(self) -> None:
        object.__setattr__(self, "metavar", "|".join((self.number.metavar, *self.words)))

    def read(self, word: str) -> int | float | str:
        if word in self.words:
            return word
        if not word.isdecimal():
            raise UserError(f"'{printable(word)}' is not {self.metavar}")
        return self.number.read(word)

    def complete(self, word: str, context: Context) -> list[tuple[str, str]]:
        return _offer(word, [(option, "") for option in self.words]) + self.number.complete(word, context)


@dataclass(frozen=True)
class Switch(_Single):
    """on | off, as a bool."""

    metavar: str = "on|off"

    def read(self, word: str) -> bool:
        if word not in ("on", "off"):
            raise UserError(f"'{printable(word)}' is not on or off")
        return word == "on"

    def format(self, value: Any) -> str:
        return "on" if value else "off"

    def complete(self, word: str, context: Context) -> list[tuple[str, str]]:
        return _offer(word, [("on", ""), ("off", "")])


@dataclass(frozen=True)
class FilePath(_Single):
    """A file's name, as one word: refused here when it could only be a mistake, since the messages
    about a file (cannot read, recording to) show its name whole."""

    metavar: str = "FILE"

    def read(self, word: str) -> str:
        if not word.isprintable():
            raise UserError(f"'{printable(word)}' is not a file name here: it holds control characters")
        if len(word) > PATH_MAX:
            raise UserError(f"'{printable(word)}' is too long for a file name")
        return word


@dataclass(frozen=True)
class CommandName(_Single):
    """A command's name: the rest of the line, since a few are two words (`seed midi`)."""

    metavar: str = "COMMAND"
    names: Callable[[], list[str]] = list
    variadic = True

    def parse(self, words: list[str]) -> str:
        return self.read(" ".join(words))

    def read(self, word: str) -> str:
        if word not in self.names():
            raise UserError(f"no command '{printable(word)}'{hint(word, self.names(), 'commands')}")
        return word

    def complete(self, word: str, context: Context) -> list[tuple[str, str]]:
        return _offer(word, [(name, "") for name in self.names()])


@dataclass(frozen=True)
class PeerAddress(_Single):
    """Where another laptop listens: HOST:PORT."""

    metavar: str = "HOST:PORT"

    def read(self, word: str) -> str:
        parse_address(word)
        return word


@dataclass(frozen=True)
class Destination(_Single):
    """Where an output plays: checked against the table of destinations, not opened."""

    metavar: str = "OUTPUT"

    def read(self, word: str) -> str:
        if word.isprintable() and len(word) <= DESTINATION_MAX:  # else no output, and not to be shown whole
            try:
                check_spec(word)
                return word
            except ValueError:  # a port number int() cannot read (a superscript two, thousands of digits)
                pass
        raise UserError(f"'{printable(word)}' is not an output (outputs: {', '.join(FORMS)})")

    def complete(self, word: str, context: Context) -> list[tuple[str, str]]:
        return _offer(word, [(spec, "output") for spec in context.outputs])


class Notes(_Single):
    """The rest of the line as a melody."""

    metavar = "NOTE"
    variadic = True

    def parse(self, words: list[str]) -> Melody:
        return Melody.parse(words)


class Settings(_Single):
    """The rest of the line as KEY=VALUE pairs of learning and voice settings, checked now."""

    metavar = "KEY=VALUE"
    variadic = True

    def parse(self, words: list[str]) -> dict[str, str]:
        changes: dict[str, str] = {}
        for pair in words:
            key, equals, value = pair.partition("=")
            if not equals or not value:
                raise UserError(f"'{printable(pair)}' is not KEY=VALUE{hint(key, SETTINGS, 'keys')}")
            if key not in SETTINGS:
                raise UserError(f"unknown setting '{printable(key)}'{hint(key, SETTINGS, 'settings')}")
            if len(value) > VALUE_MAX:  # 0.000…1 is a number, but a megabyte of it is a mistake
                raise UserError(f"{printable(pair)}: longer than any value ({VALUE_MAX} characters at most)")
            parse_value(SETTINGS, key, value)  # validated now, not mid-performance
            changes[key] = value
        return changes

    def format(self, value: Any) -> str:
        return " ".join(f"{key}={text}" for key, text in value.items())

    def complete(self, word: str, context: Context) -> list[tuple[str, str]]:
        key, equals, _ = word.partition("=")
        if not equals:
            return _offer(word, [(f"{name}=", setting_help(name)) for name in SETTINGS])
        spec = SETTINGS.get(key)
        if spec is None:
            return []
        if key == "palette":
            return _offer(word, [(f"palette={scale}:", "SCALE:LOW-HIGH") for scale in SCALES])
        if not spec.choices:  # a number: offer its default, and say what else is allowed
            return _offer(word, [(f"{key}={DEFAULTS[key]}", setting_help(key))])
        return _offer(word, [(f"{key}={option}", "default" if option == DEFAULTS[key] else "")
                             for option in spec.choices])

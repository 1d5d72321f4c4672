"""Settings typed as text (`KEY=VALUE`): how each value is parsed, checked, shown and offered.

The machinery only; the settings themselves live with what they set (learning, voicing).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ensemble.errors import UserError
from ensemble.hints import nearest
from ensemble.safe_text import printable


@dataclass(frozen=True)
class Spec:
    """One setting: how its text is parsed, what is allowed (for messages and help), the words a
    performer may complete it with (empty for numbers), and for a number its type and range."""

    parse: Callable[[str], Any]
    allowed: str
    choices: tuple[str, ...] = ()
    numbers: tuple[type, float, float] | None = None


def number(kind: type, low: float, high: float, allowed: str | None = None) -> Spec:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:  # not a number of that kind; Python's wording would echo the text whole
            raise ValueError from None
        if not low <= value <= high:
            raise ValueError
        return value

    wording = "a whole number" if kind is int else "a number"
    return Spec(parse, allowed or f"{wording} from {low:g} to {high:g}", numbers=(kind, low, high))


def choice(options: tuple[str, ...]) -> Spec:
    def parse(text: str) -> str:
        if text not in options:
            close = nearest(text, options)
            raise ValueError(f"did you mean '{close}'?" if close else "")
        return text

    return Spec(parse, " | ".join(options), options)


def _switch(text: str) -> bool:
    if text in ("on", "yes", "true", "1"):
        return True
    if text in ("off", "no", "false", "0"):
        return False
    raise ValueError


SWITCH = Spec(_switch, "on | off", ("on", "off"))


def parse_value(specs: Mapping[str, Spec], key: str, text: str) -> Any:
    spec = specs.get(key)
    if spec is None:
        raise UserError(f"unknown setting '{printable(key)}' (known: {', '.join(specs)})")
    try:
        return spec.parse(text)
    except (ValueError, UserError) as error:
        detail = f"{error}; " if str(error) else ""
        raise UserError(f"{printable(f'{key}={text}')}: {detail}allowed: {spec.allowed}") from None


def format_value(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


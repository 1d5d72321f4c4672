"""An agent's hyperparameters: one validated, immutable value, changed by `KEY=VALUE` text."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from ensemble.errors import UserError
from ensemble.melody import Palette

REWARDS = ("exact", "near", "pitchclass", "listen")
INITS = ("zero", "optimistic")
VOICES = ("saw", "square", "tri")
DEFAULT_PALETTE = Palette("major", 60, 72)


@dataclass(frozen=True)
class Hyperparameters:
    # gamma defaults to 0: the next state (step position) does not depend on the action, so
    # bootstrapping adds no information, only inertia when a target changes.
    alpha: float = 0.5
    gamma: float = 0.0
    epsilon: float = 0.3
    epsilon_decay: float = 0.85
    epsilon_min: float = 0.02
    reward: str = "exact"
    palette: Palette = DEFAULT_PALETTE
    rests: bool = True
    init: str = "zero"
    practice: int = 0
    voice: str = "saw"
    amp: float = 1.0  # relative loudness
    pan: float = 0.0  # -1 left .. 1 right (SuperCollider)
    cutoff: float = 2400.0  # low-pass cutoff in Hz, the brightness of the voice
    channel: int = 0  # MIDI channel 1-16; 0: by agent number (a0 on 1, a1 on 2, ...)
    program: int = -1  # MIDI program 0-127 sent when playing starts; -1: none
    velocity: int = 100  # MIDI velocity 1-127

    @property
    def actions(self) -> tuple[int, ...]:
        """The notes this agent may play, REST last when rests are allowed."""
        return replace(self.palette, with_rest=self.rests).notes

    def changed(self, changes: Mapping[str, str]) -> Hyperparameters:
        """A copy with `changes` (text values) parsed and validated, all or nothing."""
        return replace(self, **{key: parse_value(key, text) for key, text in changes.items()})

    def describe(self) -> str:
        return " ".join(f"{f.name}={format_value(getattr(self, f.name))}" for f in fields(self))


@dataclass(frozen=True)
class _Spec:
    parse: Callable[[str], Any]
    allowed: str


def _number(kind: type, low: float, high: float) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise ValueError from None
        if not low <= value <= high:
            raise ValueError
        return value

    return parse


def _choice(options: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in options:
            raise ValueError
        return text

    return parse


def _switch(text: str) -> bool:
    if text in ("on", "yes", "true", "1"):
        return True
    if text in ("off", "no", "false", "0"):
        return False
    raise ValueError


def _palette(text: str) -> Palette:
    try:
        return Palette.parse(text)
    except UserError as error:
        raise ValueError(str(error)) from None


SPECS: dict[str, _Spec] = {
    "alpha": _Spec(_number(float, 0.0, 1.0), "a number from 0 to 1"),
    "gamma": _Spec(_number(float, 0.0, 0.99), "a number from 0 to 0.99"),
    "epsilon": _Spec(_number(float, 0.0, 1.0), "a number from 0 to 1"),
    "epsilon_decay": _Spec(_number(float, 0.0, 1.0), "a number from 0 to 1"),
    "epsilon_min": _Spec(_number(float, 0.0, 1.0), "a number from 0 to 1"),
    "reward": _Spec(_choice(REWARDS), " | ".join(REWARDS)),
    "palette": _Spec(_palette, "SCALE:LOW-HIGH, e.g. major:C4-C6 or chromatic:C3-C5"),
    "rests": _Spec(_switch, "on | off"),
    "init": _Spec(_choice(INITS), " | ".join(INITS)),
    "practice": _Spec(_number(int, 0, 64), "a whole number from 0 to 64"),
    "voice": _Spec(_choice(VOICES), " | ".join(VOICES)),
    "amp": _Spec(_number(float, 0.0, 2.0), "a number from 0 to 2 (1 = as loud as the others)"),
    "pan": _Spec(_number(float, -1.0, 1.0), "a number from -1 (left) to 1 (right)"),
    "cutoff": _Spec(_number(float, 100.0, 12000.0), "a frequency in Hz from 100 to 12000"),
    "channel": _Spec(_number(int, 0, 16), "a MIDI channel from 1 to 16 (0: by agent number)"),
    "program": _Spec(_number(int, -1, 127), "a MIDI program from 0 to 127 (-1: none)"),
    "velocity": _Spec(_number(int, 1, 127), "a MIDI velocity from 1 to 127"),
}


def parse_value(key: str, text: str) -> Any:
    spec = SPECS.get(key)
    if spec is None:
        raise UserError(f"unknown hyperparameter '{key}' (known: {', '.join(SPECS)})")
    try:
        return spec.parse(text)
    except ValueError as error:
        detail = f"{error}; " if str(error) else ""
        raise UserError(f"{key}={text}: {detail}allowed: {spec.allowed}") from None


def format_value(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)

"""The performer's command language: one line of text -> one validated command object.

Shared by scripts, the REPL and journals. Parsing validates everything that can be checked
without the running ensemble (note names, numbers, hyperparameter keys and ranges).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ensemble.errors import UserError
from ensemble.hyperparams import SPECS, Hyperparameters
from ensemble.melody import Melody

MIN_TEMPO, MAX_TEMPO = 20.0, 400.0
MIN_STEP, MAX_STEP = 1 / 16, 16.0  # beats; the shortest step must outlast two engine blocks
MAX_SPAWN = 64
MAX_WAIT = 100_000


@dataclass(frozen=True)
class Seed:
    melody: Melody

    def __str__(self) -> str:
        return f"seed {self.melody}"


@dataclass(frozen=True)
class Spawn:
    count: int = 1

    def __str__(self) -> str:
        return f"spawn {self.count}"


@dataclass(frozen=True)
class Set:
    who: str  # an agent name or "all"
    changes: dict[str, str] = field(hash=False)

    def __str__(self) -> str:
        return " ".join([f"set {self.who}", *(f"{k}={v}" for k, v in self.changes.items())])


@dataclass(frozen=True)
class Tempo:
    bpm: float

    def __str__(self) -> str:
        return f"tempo {self.bpm:g}"


@dataclass(frozen=True)
class Step:
    beats: float

    def __str__(self) -> str:
        return f"step {self.beats:g}"


@dataclass(frozen=True)
class Wait:
    phrases: int

    def __str__(self) -> str:
        return f"wait {self.phrases}"


Command = Seed | Spawn | Set | Tempo | Step | Wait


def parse_command(line: str) -> Command | None:
    """Parse one line; None for a blank line or a comment. Raises UserError when invalid."""
    text = line.split("#", 1)[0].strip()
    if not text:
        return None
    word, *args = text.split()
    parser = _PARSERS.get(word.lower())
    if parser is None:
        raise UserError(f"unknown command '{word}'{_suggestion(word.lower())}")
    return parser(args)


def _suggestion(word: str) -> str:
    close = [name for name in _PARSERS if _edit_distance(word, name) <= 2]
    return f" (did you mean '{close[0]}'?)" if close else f" (commands: {', '.join(_PARSERS)})"


def _edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


def _number(kind: type, text: str, name: str, low: float, high: float) -> float:
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise UserError(f"{name} must be {'a whole number' if kind is int else 'a number'} "
                        f"from {low:g} to {high:g}, not '{text}'")
    return value


def _one_arg(args: list[str], usage: str) -> str:
    if len(args) != 1:
        raise UserError(f"usage: {usage}")
    return args[0]


def _seed(args: list[str]) -> Seed:
    if not args:
        raise UserError("usage: seed NOTE ... (e.g. seed C4 E4 G4 _ 67)")
    return Seed(Melody.parse(args))


def _spawn(args: list[str]) -> Spawn:
    if len(args) > 1:
        raise UserError("usage: spawn [N]")
    return Spawn(int(_number(int, args[0], "N", 1, MAX_SPAWN)) if args else 1)


def _set(args: list[str]) -> Set:
    if len(args) < 2:
        raise UserError("usage: set AGENT|all KEY=VALUE ...")
    who, pairs = args[0], args[1:]
    changes: dict[str, str] = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not value:
            raise UserError(f"'{pair}' is not KEY=VALUE (keys: {', '.join(SPECS)})")
        changes[key] = value
    Hyperparameters().changed(changes)  # validates keys and values now, not mid-performance
    return Set(who, changes)


def _tempo(args: list[str]) -> Tempo:
    return Tempo(_number(float, _one_arg(args, "tempo BPM"), "BPM", MIN_TEMPO, MAX_TEMPO))


def _step(args: list[str]) -> Step:
    return Step(_number(float, _one_arg(args, "step BEATS"), "BEATS", MIN_STEP, MAX_STEP))


def _wait(args: list[str]) -> Wait:
    return Wait(int(_number(int, _one_arg(args, "wait N"), "N", 1, MAX_WAIT)))


_PARSERS: dict[str, Callable[[list[str]], Command]] = {
    "seed": _seed,
    "spawn": _spawn,
    "set": _set,
    "tempo": _tempo,
    "step": _step,
    "wait": _wait,
}

"""The performer's command language: one line of text -> one validated command object.

Shared by scripts, the REPL and journals. Parsing validates everything that can be checked
without the running ensemble (note names, numbers, hyperparameter keys and ranges).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ensemble.errors import UserError
from ensemble.hyperparams import SPECS, VOICES, Hyperparameters
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


@dataclass(frozen=True)
class Kill:
    agent: str

    def __str__(self) -> str:
        return f"kill {self.agent}"


@dataclass(frozen=True)
class Mute:
    who: str  # an agent or "all"

    def __str__(self) -> str:
        return f"mute {self.who}"


@dataclass(frozen=True)
class Unmute:
    who: str

    def __str__(self) -> str:
        return f"unmute {self.who}"


@dataclass(frozen=True)
class Solo:
    agent: str

    def __str__(self) -> str:
        return f"solo {self.agent}"


@dataclass(frozen=True)
class Follow:
    agent: str
    target: str  # an agent or "seed"

    def __str__(self) -> str:
        return f"follow {self.agent} {self.target}"


@dataclass(frozen=True)
class Voice:
    who: str
    voice: str

    def __str__(self) -> str:
        return f"voice {self.who} {self.voice}"


@dataclass(frozen=True)
class Train:
    who: str
    attempts: int

    def __str__(self) -> str:
        return f"train {self.who} {self.attempts}"


@dataclass(frozen=True)
class Forget:
    who: str

    def __str__(self) -> str:
        return f"forget {self.who}"


# Commands about the performance itself, applied by the session on a phrase boundary.
Command = (Seed | Spawn | Set | Tempo | Step | Wait | Kill | Mute | Unmute | Solo | Follow | Voice | Train
           | Forget)


@dataclass(frozen=True)
class Out:
    action: str  # "add" or "remove"
    spec: str  # e.g. "sc:127.0.0.1:57110"

    def __str__(self) -> str:
        return f"out {self.action} {self.spec}"


@dataclass(frozen=True)
class Record:
    on: bool
    path: str | None = None

    def __str__(self) -> str:
        return f"record {'on' if self.on else 'off'}{f' {self.path}' if self.path else ''}"


@dataclass(frozen=True)
class Status:
    def __str__(self) -> str:
        return "status"


@dataclass(frozen=True)
class Help:
    topic: str | None = None

    def __str__(self) -> str:
        return f"help {self.topic}" if self.topic else "help"


@dataclass(frozen=True)
class Quit:
    def __str__(self) -> str:
        return "quit"


# Commands to the REPL about the stage around the performance: outputs, recording, help.
StageCommand = Out | Record | Status | Help | Quit


def parse_command(line: str) -> Command | StageCommand | None:
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


def _agent(args: list[str], usage: str, allow_all: bool = False) -> str:
    name = _one_arg(args, usage)
    if name == "all" and allow_all:
        return name
    if not _AGENT_NAME.match(name):
        raise UserError(f"'{name}' is not an agent name (a0, a1, ...{', or all' if allow_all else ''})")
    return name


def _kill(args: list[str]) -> Kill:
    return Kill(_agent(args, "kill AGENT"))


def _mute(args: list[str]) -> Mute:
    return Mute(_agent(args, "mute AGENT|all", allow_all=True))


def _unmute(args: list[str]) -> Unmute:
    return Unmute(_agent(args, "unmute AGENT|all", allow_all=True))


def _solo(args: list[str]) -> Solo:
    return Solo(_agent(args, "solo AGENT"))


def _follow(args: list[str]) -> Follow:
    if len(args) != 2:
        raise UserError("usage: follow AGENT TARGET (an agent, or seed)")
    agent = _agent(args[:1], "follow AGENT TARGET")
    target = args[1] if args[1] == "seed" else _agent(args[1:], "follow AGENT TARGET")
    return Follow(agent, target)


def _voice(args: list[str]) -> Voice:
    if len(args) != 2:
        raise UserError(f"usage: voice AGENT|all {'|'.join(VOICES)}")
    who = _agent(args[:1], "voice AGENT|all VOICE", allow_all=True)
    Hyperparameters().changed({"voice": args[1]})
    return Voice(who, args[1])


def _train(args: list[str]) -> Train:
    if len(args) != 2:
        raise UserError("usage: train AGENT|all N (N silent attempts, now)")
    who = _agent(args[:1], "train AGENT|all N", allow_all=True)
    return Train(who, int(_number(int, args[1], "N", 1, MAX_TRAIN)))


def _forget(args: list[str]) -> Forget:
    return Forget(_agent(args, "forget AGENT|all", allow_all=True))


def _out(args: list[str]) -> Out:
    if len(args) != 2 or args[0] not in ("add", "remove"):
        raise UserError("usage: out add|remove glicol|sc[:HOST:PORT]|midi[:PORT]")
    return Out(args[0], args[1])


def _record(args: list[str]) -> Record:
    if not args or args[0] not in ("on", "off") or len(args) > 2 or (args[0] == "off" and len(args) > 1):
        raise UserError("usage: record on [FILE] | record off")
    return Record(args[0] == "on", args[1] if len(args) == 2 else None)


def _status(args: list[str]) -> Status:
    if args:
        raise UserError("usage: status")
    return Status()


def _help(args: list[str]) -> Help:
    if len(args) > 1:
        raise UserError("usage: help [COMMAND]")
    if args and args[0] not in _PARSERS:
        raise UserError(f"no command '{args[0]}'{_suggestion(args[0])}")
    return Help(args[0] if args else None)


def _quit(args: list[str]) -> Quit:
    return Quit()


_AGENT_NAME = re.compile(r"^a\d{1,4}$")
MAX_TRAIN = 1000

_PARSERS: dict[str, Callable[[list[str]], Command | StageCommand]] = {
    "seed": _seed,
    "spawn": _spawn,
    "set": _set,
    "tempo": _tempo,
    "step": _step,
    "wait": _wait,
    "kill": _kill,
    "mute": _mute,
    "unmute": _unmute,
    "solo": _solo,
    "follow": _follow,
    "voice": _voice,
    "train": _train,
    "forget": _forget,
    "out": _out,
    "record": _record,
    "status": _status,
    "help": _help,
    "quit": _quit,
}
COMMAND_NAMES = tuple(_PARSERS)

HELP: dict[str, str] = {
    "seed": "seed NOTE ...         the melody a0 copies: C4 E4 G4 _ 67 (names, MIDI numbers, _ = rest)",
    "spawn": "spawn [N]             add N agents at the end of the chain (a0, a1, ...)",
    "set": "set AGENT|all K=V ... change hyperparameters (help set lists them)",
    "tempo": "tempo BPM             20 to 400",
    "step": "step BEATS            the length of one melody step",
    "wait": "wait N                (scripts) let N phrases pass",
    "kill": "kill AGENT            take an agent out; whoever copied it copies what it copied",
    "mute": "mute AGENT|all        silence an agent (it keeps learning)",
    "unmute": "unmute AGENT|all      let it be heard again",
    "solo": "solo AGENT            mute every other agent",
    "follow": "follow AGENT TARGET   rewire: AGENT copies TARGET (an agent, or seed)",
    "voice": "voice AGENT|all VOICE saw, square or tri",
    "train": "train AGENT|all N     N silent attempts, now",
    "forget": "forget AGENT|all      start over: fresh Q-values",
    "out": "out add|remove SPEC   glicol, sc[:HOST:PORT], midi[:PORT]",
    "record": "record on [FILE]|off  the journal of the performance",
    "status": "status                a table of the agents",
    "help": "help [COMMAND]        this, or one command",
    "quit": "quit                  stop: all notes off, outputs closed (Ctrl-D too)",
}

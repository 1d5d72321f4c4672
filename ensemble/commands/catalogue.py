"""Every command of the performer's language, each declared once (see language.py).

Performance commands change the music and are allowed in scripts, journals and the REPL;
`wait` belongs to scripts; the rest are about the stage around the performance (the REPL).
"""

from __future__ import annotations

from dataclasses import dataclass

from ensemble.commands.kinds import (
    AgentRef,
    Choice,
    CommandName,
    Destination,
    FilePath,
    Notes,
    Number,
    NumberOr,
    PeerAddress,
    Settings,
    Switch,
)
from ensemble.commands.language import COMMANDS, Command, Where, arg, command
from ensemble.errors import UserError
from ensemble.melody import Melody
from ensemble.peers.names import outside_agent
from ensemble.voicing import VOICES

MIN_TEMPO, MAX_TEMPO = 20.0, 400.0
MIN_STEP, MAX_STEP = 1 / 16, 16.0  # beats; the shortest step must outlast two engine blocks
MAX_SPAWN = 64
PERTURBATIONS = ("reverse", "invert", "rotate")
MAX_WAIT = 100_000
MAX_TRAIN = 1000
MAX_CAPTURE = 64  # steps a keyboard capture may take

AGENT = AgentRef()
AGENT_OR_ALL = AgentRef(everyone=True, metavar="AGENT|all")


@command("the melody a0 copies: C4 E4 G4 _ 67 (names, MIDI numbers, _ = rest; C4:1.5 lasts 1.5 beats)")
@dataclass(frozen=True)
class Seed(Command):
    melody: Melody = arg(Notes())


@command("move the seed by N semitones (-48..48), rests and lengths kept: a perturbation to recover from")
@dataclass(frozen=True)
class Transpose(Command):
    semitones: int = arg(Number("N", True, -48, 48))


@command("perturb the seed: reverse (backwards), invert (intervals upside down), rotate (the first "
         "step to the end)")
@dataclass(frozen=True)
class Perturb(Command):
    how: str = arg(Choice(PERTURBATIONS, "|".join(PERTURBATIONS)))


@command("the next N steps played on the MIDI input (--midi-in) become the seed; follow: every "
         "phrase played, until off", where=Where.SCRIPT | Where.REPL, name="seed midi",
         not_here="")
@dataclass(frozen=True)
class SeedMidi(Command):
    """Not journaled: the journal keeps the `seed` it captured, which replays without a keyboard."""

    what: int | str = arg(NumberOr(Number("N", True, 1, MAX_CAPTURE), ("follow", "off")))


@command("add N agents at the end of the chain (a0, a1, ...); follow TARGET: the first copies TARGET "
         "(alice/a3: a sub-chain of an agent on another laptop)", usage="spawn [N] [follow TARGET]")
@dataclass(frozen=True)
class Spawn(Command):
    count: int = arg(Number("N", True, 1, MAX_SPAWN), default=1)
    follow: str | None = arg(Choice(("follow",), "follow"), default=None)
    leader: str | None = arg(AgentRef(seed=True, outside=True, metavar="TARGET"), default=None)

    def __post_init__(self) -> None:
        if (self.follow is None) != (self.leader is None):
            raise UserError("usage: spawn [N] [follow TARGET]")


@command("change learning and voice settings (help set lists them)")
@dataclass(frozen=True)
class Set(Command):
    who: str = arg(AGENT_OR_ALL)
    changes: dict[str, str] = arg(Settings(), hash=False)


@command(f"beats per minute, {MIN_TEMPO:g} to {MAX_TEMPO:g}")
@dataclass(frozen=True)
class Tempo(Command):
    bpm: float = arg(Number("BPM", False, MIN_TEMPO, MAX_TEMPO))


@command("the length of one melody step")
@dataclass(frozen=True)
class Step(Command):
    beats: float = arg(Number("BEATS", False, MIN_STEP, MAX_STEP))


@command("let N phrases pass", where=Where.SCRIPT,
         not_here="here every command lands on the next phrase anyway")
@dataclass(frozen=True)
class Wait(Command):
    phrases: int = arg(Number("N", True, 1, MAX_WAIT))


@command("take an agent out; whoever copied it copies what it copied")
@dataclass(frozen=True)
class Kill(Command):
    agent: str = arg(AGENT)


@command("silence an agent (it keeps learning)")
@dataclass(frozen=True)
class Mute(Command):
    who: str = arg(AGENT_OR_ALL)


@command("let it be heard again")
@dataclass(frozen=True)
class Unmute(Command):
    who: str = arg(AGENT_OR_ALL)


@command("mute every other agent")
@dataclass(frozen=True)
class Solo(Command):
    agent: str = arg(AGENT)


@command("rewire: AGENT copies TARGET (an agent, seed, or alice/a3 on another laptop)")
@dataclass(frozen=True)
class Follow(Command):
    agent: str = arg(AGENT)
    target: str = arg(AgentRef(seed=True, outside=True, metavar="TARGET"))


@command("what an agent on another laptop shared, as its followers here took it", where=Where.JOURNAL)
@dataclass(frozen=True)
class Heard(Command):
    agent: str = arg(AgentRef(outside=True, metavar="PEER/AGENT"))
    melody: Melody = arg(Notes())

    def __post_init__(self) -> None:
        if outside_agent(self.agent) is None:
            raise UserError(f"'{self.agent}' is not an agent on another laptop (PEER/AGENT)")


@command("the voice, on Glicol and SuperCollider")
@dataclass(frozen=True)
class Voice(Command):
    who: str = arg(AGENT_OR_ALL)
    voice: str = arg(Choice(VOICES, "|".join(VOICES)))


@command("N silent attempts, now")
@dataclass(frozen=True)
class Train(Command):
    who: str = arg(AGENT_OR_ALL)
    attempts: int = arg(Number("N", True, 1, MAX_TRAIN))


@command("start over: fresh Q-values")
@dataclass(frozen=True)
class Forget(Command):
    who: str = arg(AGENT_OR_ALL)


@command("change outputs mid-performance, from the next phrase", where=Where.REPL)
@dataclass(frozen=True)
class Out(Command):
    action: str = arg(Choice(("add", "remove"), "add|remove"))
    spec: str = arg(Destination())


@command("play with another laptop (add) or no longer (remove); --listen must be given", where=Where.REPL)
@dataclass(frozen=True)
class Peer(Command):
    action: str = arg(Choice(("add", "remove"), "add|remove"))
    address: str = arg(PeerAddress())


@command("the other laptops: who, last heard, round trip, what they share, what was refused",
         where=Where.REPL)
@dataclass(frozen=True)
class Peers(Command):
    pass


@command("join (on) or leave (off) an Ableton Link session, from the next phrase; needs ensemble[link]",
         where=Where.REPL)
@dataclass(frozen=True)
class Link(Command):
    on: bool = arg(Switch())


@command("record the journal of the performance (from its very start)", where=Where.REPL)
@dataclass(frozen=True)
class Record(Command):
    on: bool = arg(Switch())
    path: str | None = arg(FilePath(), default=None)

    def __post_init__(self) -> None:
        if not self.on and self.path is not None:
            raise UserError("usage: record on [FILE] | record off")


@command("play a script's commands into the performance (its waits too, while you type)",
         where=Where.REPL)
@dataclass(frozen=True)
class Load(Command):
    path: str = arg(FilePath())


@command("a table of the agents", where=Where.REPL)
@dataclass(frozen=True)
class Status(Command):
    pass


@command("this, or one command", where=Where.REPL)
@dataclass(frozen=True)
class Help(Command):
    topic: str | None = arg(CommandName(names=lambda: list(COMMANDS)), default=None)


@command("stop: all notes off, outputs closed (Ctrl-D too)", where=Where.REPL)
@dataclass(frozen=True)
class Quit(Command):
    pass

"""Where a performance's commands come from: a script, a journal, or a performer typing.

A source turns a session into phrases: it feeds the session its commands and asks for the
next phrase whenever the music needs one. Every way of playing (live, offline, a rehearsal
that only checks, a plot's replay) runs a source through a session the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ensemble import commands as cmd
from ensemble.errors import UserError
from ensemble.events import Phrase
from ensemble.learning.chain import Attempt
from ensemble.melody import Melody
from ensemble.performance.journal import BOM, Journal, checksum, read_journal
from ensemble.performance.script import ScriptLine, load_script
from ensemble.session import Session
from ensemble.session_ports import Ear

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Source:
    """What to play: its name, its random seed, how many phrases (None: until stopped), and how
    to make its phrases from a session."""

    name: str
    seed: int
    phrases: int | None
    play: Callable[[Session], Iterator[Phrase]]


def script_source(lines: list[ScriptLine], seed: int, name: str) -> Source:
    total = sum(line.command.phrases for line in lines if isinstance(line.command, cmd.Wait))
    if not total:
        raise UserError(f"{name}: nothing to play: the script has no `wait N` to let phrases pass")

    def play(session: Session) -> Iterator[Phrase]:
        for line in lines:
            if isinstance(line.command, cmd.Wait):
                for _ in range(line.command.phrases):
                    yield session.next_phrase()
            else:
                session.submit(line.command, where=f"{name}:{line.number}")

    return Source(name, seed, total, play)


def journal_source(journal: Journal) -> Source:
    """The same commands on the same phrases; a replay that comes out differently says where.

    A phrase's checksum is a digest of the attempts it recorded, not of its line: a mismatch says
    that the replay no longer makes the attempts that were heard, from that phrase on. The cause
    may be a line damaged in a way the reader cannot see (a command changed by a flipped byte, a
    checksum changed), or another version of ensemble. Either way the commands are still the
    performance as it was given, and the best there is to go on: the replay plays every phrase
    the reader kept, and warns once, at the first phrase that differs.
    """
    for warning in journal.warnings:
        log.warning("%s", warning)
    if not journal.phrases:
        raise UserError(f"{journal.path}: the journal has no phrase to play")

    def play(session: Session) -> Iterator[Phrase]:
        composed = _Composed()
        session.observe(composed)  # the attempts the recorder summed up, as it saw them
        diverged = False
        for index in range(journal.phrases):
            for command in journal.commands.get(index, []):
                session.submit(command)
            phrase = session.next_phrase()
            if not diverged and composed.checksum != journal.checksums[index]:
                diverged = True
                log.warning("%s: the replay diverges from the recording at phrase %d (a damaged line, "
                            "or another version of ensemble); the commands play on as recorded",
                            journal.path, index + 1)
            yield phrase

    return Source(str(journal.path), journal.seed, journal.phrases, play)


class _Composed:
    """Observes a session: the checksum of the phrase it composed last."""

    def __init__(self) -> None:
        self.checksum = ""

    def applied(self, phrase: int, beat: float, command: cmd.Command) -> None:
        pass

    def composed(self, phrase: int, attempts: list[Attempt]) -> None:
        self.checksum = checksum(attempts)


def typed_source(seed: int) -> Source:
    """A performer typing: phrases until stopped, with whatever was submitted meanwhile."""

    def play(session: Session) -> Iterator[Phrase]:
        while True:
            yield session.next_phrase()

    return Source("the REPL", seed, None, play)


def load_source(path: Path, seed: int | None, keyboard: bool = False) -> Source:
    """A script, or a journal (which carries its own seed: asking for another is refused).
    `keyboard`: a MIDI input will be there for `seed midi`."""
    if is_journal(path):
        journal = read_journal(path)
        if seed is not None and seed != journal.seed:
            raise UserError(f"{path} was recorded with seed {journal.seed}; a journal replays with its own "
                            f"seed (leave out --seed)")
        return journal_source(journal)
    source = script_source(load_script(path), seed or 0, str(path))
    rehearse(source, keyboard=keyboard)  # a bad line fails now, as `file:line: message`
    return source


def is_journal(path: Path) -> bool:
    if path.suffix == ".jsonl":
        return True
    try:
        with path.open("rb") as file:
            return file.read(len(BOM) + 1).removeprefix(BOM)[:1] == b"{"
    except OSError:
        return False  # the script reader says what is wrong with the path


class Unplayed:
    """A keyboard nobody plays: what `seed midi` listens to in a rehearsal."""

    def capture(self, steps: int, step_seconds: float, beat_seconds: float, rhythm: bool) -> None:
        pass

    follow = capture

    def off(self) -> None:
        pass

    def take(self) -> Melody | None:
        return None

    def status(self) -> str:
        return "not played (a rehearsal)"


def default_ear() -> Ear:
    """The listening agents' ear: the Glicol engine, loaded only when an agent first listens."""
    from ensemble.listening.ear import Ear as GlicolEar

    return GlicolEar()


def rehearse(source: Source, ear: Callable[[], Ear] | None = default_ear, keyboard: bool = False) -> Session:
    """Play a source through a silent session, as fast as learning goes: the first command that
    fails raises `file:line: message`. Returns the session as it stood at the end. `keyboard`:
    `seed midi` is accepted (nobody plays in a rehearsal: the seed stays as written)."""
    session = Session(seed=source.seed, ear=ear, strict=True)
    if keyboard:
        session.keyboard = Unplayed()
    if source.phrases is None:
        raise UserError(f"{source.name} never ends: nothing to rehearse")
    for _ in source.play(session):
        pass
    return session

"""Offline rendering: a performance script -> WAV through the Glicol engine, faster than real time."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ensemble import commands as cmd
from ensemble.clock import VirtualClock
from ensemble.conductor import Conductor
from ensemble.errors import UserError
from ensemble.events import Phrase
from ensemble.glicol.engine import SAMPLE_RATE, GlicolEngine
from ensemble.glicol.wav_output import GlicolWavOutput
from ensemble.midi.file_output import MidiFileOutput
from ensemble.outputs.base import Output
from ensemble.performance.journal import Journal, journal_phrases, read_journal
from ensemble.performance.script import ScriptLine, load_script, script_phrases
from ensemble.progress import Progress
from ensemble.session import Session


@dataclass
class RenderResult:
    path: Path
    audio_seconds: float
    wall_seconds: float
    phrase_starts: list[int]  # sample at which each phrase begins in the WAV
    session: Session  # as it stood at the end: agents, history

    @property
    def speed(self) -> float:
        """Seconds of audio per wall second."""
        return self.audio_seconds / max(self.wall_seconds, 1e-9)


def check_script(lines: list[ScriptLine], seed: int, name: str) -> None:
    """Run the script's commands through a silent session; the first failure is `name:line: ...`."""
    if not any(isinstance(line.command, cmd.Wait) for line in lines):
        raise UserError(f"{name}: nothing to render: the script has no `wait N` to let phrases play")
    session = Session(seed=seed)
    for line in lines:
        try:
            if isinstance(line.command, cmd.Wait):
                for _ in range(line.command.phrases):
                    session.next_phrase()
            else:
                session.apply(line.command)
        except UserError as error:
            raise UserError(f"{name}:{line.number}: {error}") from None


def check_writable(path: Path) -> None:
    """Fail before anything renders if `path` cannot be written; leaves no file behind."""
    existed = path.exists()
    try:
        with path.open("ab"):
            pass
    except OSError as error:
        raise UserError(f"cannot write {path}: {error.strerror or error}") from None
    if not existed:
        path.unlink()


@dataclass(frozen=True)
class Performance:
    """What to play: its name, seed and length, and how to make its phrases from a session."""

    name: str
    seed: int
    phrases: int
    make: Callable[[Session], Iterator[Phrase]]


def script_performance(lines: list[ScriptLine], seed: int, name: str) -> Performance:
    check_script(lines, seed, name)
    total = sum(line.command.phrases for line in lines if isinstance(line.command, cmd.Wait))
    return Performance(name, seed, total, lambda session: script_phrases(lines, session))


def journal_performance(journal: Journal, on_message: Callable[[str], None] = print) -> Performance:
    for warning in journal.warnings:
        on_message(warning)
    if not journal.phrases:
        raise UserError(f"{journal.path}: the journal has no phrase to play")
    return Performance(str(journal.path), journal.seed, journal.phrases,
                       lambda session: journal_phrases(journal, session, on_message))


def load_performance(path: Path, seed: int, on_message: Callable[[str], None] = print) -> Performance:
    """A script, or a journal (JSON Lines, whose seed then wins over `seed`)."""
    if _is_journal(path):
        return journal_performance(read_journal(path), on_message)
    return script_performance(load_script(path), seed, str(path))


def _is_journal(path: Path) -> bool:
    if path.suffix == ".jsonl":
        return True
    try:
        with path.open("rb") as file:
            return file.read(1) == b"{"
    except OSError:
        return False  # the script reader says what is wrong with the path


def render_script(lines: list[ScriptLine], out: Path, *, seed: int = 0, name: str = "<script>",
                  engine: GlicolEngine | None = None, show_progress: bool = True,
                  on_message: Callable[[str], None] = print, midi: Path | None = None) -> RenderResult:
    return render(script_performance(lines, seed, name), out, engine=engine, show_progress=show_progress,
                  on_message=on_message, midi=midi)


def render(performance: Performance, out: Path, *, engine: GlicolEngine | None = None,
           show_progress: bool = True, on_message: Callable[[str], None] = print,
           midi: Path | None = None) -> RenderResult:
    """Render through the conductor on a virtual clock: the live code path, as fast as it goes.

    With `midi`, a Standard MIDI File of the same performance is written alongside the WAV.
    """
    for path in (out, midi):  # every file is required offline: a bad path fails before rendering
        if path is not None:
            check_writable(path)
    started = time.perf_counter()
    session = Session(seed=performance.seed, on_message=on_message)
    total = performance.phrases
    progress = Progress(total, f"rendering {out.name}") if show_progress else None

    def phrase_done(index: int) -> None:
        if progress:
            progress.update(index + 1, f"phrase {index + 1}/{total}")

    wav = GlicolWavOutput(out, engine, on_phrase=phrase_done)
    outputs: list[Output] = [wav] if midi is None else [wav, MidiFileOutput(midi)]
    conductor = Conductor(performance.make(session), session.tempo, outputs, VirtualClock(),
                          on_message=on_message)
    conductor.run()
    audio_seconds = wav.frames / SAMPLE_RATE
    wall = time.perf_counter() - started
    if progress:
        progress.finish(f"{audio_seconds:.1f}s of audio at {audio_seconds / wall:.0f}x real time")
    return RenderResult(out, audio_seconds, wall, wav.phrase_starts[:total], session)

"""Offline: a performance rendered to WAV (and MIDI) through the live code path, on a virtual
clock, as fast as it goes.

Before a sample is rendered the performance is rehearsed in silence: a bad line fails then, as
`file:line: message`, and the rehearsal measures the performance, so the render is announced
with its length, size and an estimate of its time, writes RF64 when a WAV cannot hold it, and
shows its progress. Its files appear whole or not at all (ensemble/files.py): a render that
fails, is interrupted or killed leaves every target as it was.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from ensemble.clock import VirtualClock
from ensemble.conductor import Conductor
from ensemble.dsp import SAMPLE_RATE
from ensemble.dsp.wav_writer import file_bytes, needs_rf64
from ensemble.errors import UserError
from ensemble.events import Phrase
from ensemble.files import PartialFile, written_together
from ensemble.glicol.engine import GlicolEngine
from ensemble.glicol.wav_output import GlicolWavOutput, planned_frames
from ensemble.midi.file_output import MidiFileOutput
from ensemble.outputs.base import Output
from ensemble.performance import progress
from ensemble.performance.runner import Runner
from ensemble.performance.script import ScriptLine, load_script
from ensemble.performance.sources import Source, default_ear, is_journal, load_source, script_source
from ensemble.session import Session

# What a second of audio costs to render, in wall seconds, with n agents (one Glicol chain each):
# the engine's fixed work per block, its work per chain, and a little more per chain as the
# program grows. Fitted to renders of 1 to 64 agents on a 2-core machine and to 256 agents at
# 0.42x real time (within about 1.5x of each); only a guess: the progress lines measure as they go.
COST = (0.002, 0.005, 1.7e-5)
QUIET_CHECK = 1.0  # seconds of rehearsal before it says what it is doing


@dataclass
class RenderResult:
    path: Path
    audio_seconds: float
    wall_seconds: float
    phrase_starts: list[int]  # sample at which each phrase begins in the WAV
    session: Session  # as it stood at the end: agents, history
    commands: list[tuple[int, str]]  # (phrase, from 1; command) as they landed

    @property
    def speed(self) -> float:
        """Seconds of audio per wall second."""
        return self.audio_seconds / max(self.wall_seconds, 1e-9)


@dataclass(frozen=True)
class Plan:
    """What a render will make, known from its rehearsal before a sample is rendered."""

    phrases: int
    seconds: float  # the performance, without the ring-out
    agent_seconds: float  # every agent's time on stage, summed
    render_seconds: float  # a guess at the wall time the render takes (see COST)

    @property
    def frames(self) -> int:
        return planned_frames(self.seconds)

    @property
    def rf64(self) -> bool:
        return needs_rf64(self.frames)

    @property
    def wav_bytes(self) -> int:
        return file_bytes(self.frames)

    def describe(self) -> str:
        kind = "RF64 (longer than a WAV can hold)" if self.rf64 else "WAV"
        wall = progress.duration(self.render_seconds)
        return (f"{self.phrases} phrases, {progress.duration(self.frames / SAMPLE_RATE)} of audio, "
                f"{progress.size(self.wav_bytes)} {kind}, {'' if wall[0].isalpha() else 'about '}{wall} "
                f"to render")


def load(path: Path, seed: int | None) -> Source:
    """A script or a journal to render. A script is not rehearsed here: the render's own
    rehearsal checks it (as `file:line: message`) and measures it at once."""
    if is_journal(path):
        return load_source(path, seed)
    return script_source(load_script(path), seed or 0, str(path))


def rehearse(source: Source, strict: bool = True, stream: TextIO | None = None) -> Plan:
    """Play `source` through a silent session, as fast as learning goes, and measure it.
    `strict`: the first command that fails raises (a script); otherwise it is left out with a
    warning when the render meets it (a journal, as it was live). A long rehearsal says so on
    `stream` after a second, with how long it expects to take."""
    if source.phrases is None:
        raise UserError(f"{source.name} never ends: nothing to render")
    session = Session(seed=source.seed, ear=default_ear, strict=strict)
    checking = f"checking {source.name}"
    tenths = None if stream is None else progress.Tenths(
        source.phrases, checking, stream, "phrases", quiet_for=QUIET_CHECK,
        opening=lambda total: f"{checking} before rendering: {source.phrases} phrases, "
                              f"about {progress.duration(total)}")
    phrases, agent_seconds, cost = 0, 0.0, 0.0
    with _quiet():
        for phrase in source.play(session):
            phrases += 1
            agents, seconds = len(phrase.parts) + len(phrase.silent), phrase.beats * 60.0 / phrase.tempo
            agent_seconds += agents * seconds
            cost += seconds * (COST[0] + COST[1] * agents + COST[2] * agents * agents)
            if tenths is not None:
                tenths.advance()
    return Plan(phrases, session.tempo.seconds(session.beat), agent_seconds, cost)


def render(source: Source, out: Path, *, engine: GlicolEngine | None = None, show_progress: bool = True,
           midi: Path | None = None, strict: bool = True) -> RenderResult:
    """Render `source` to the WAV file `out` (and a Standard MIDI File `midi`). Every target is
    checked before any work; they appear together once complete, or not at all."""
    if source.phrases is None:
        raise UserError(f"{source.name} never ends: nothing to render")
    stream = sys.stderr if show_progress else None
    targets = [out] if midi is None else [out, midi]
    with written_together(targets) as partials:
        plan = rehearse(source, strict, stream)
        check_room(plan.wav_bytes, partials[0])
        if stream is not None:
            print(f"rendering {out}: {plan.describe()}", file=stream, flush=True)
        started = time.perf_counter()
        with progress.shown(plan.phrases, f"rendering {out.name}", stream, "phrases") as advance:
            wav = GlicolWavOutput(partials[0].path, engine, on_phrase=lambda index: advance(),
                                  planned_frames=plan.frames)
            outputs: list[Output] = [wav] if midi is None else [wav, MidiFileOutput(partials[1].path)]
            watch = _Watch(outputs, targets)
            runner = Runner(replace(source, play=watch.playing(source)), outputs, VirtualClock(),
                            live=False)  # nobody types: no mix to follow
            watch.conductor = runner.conductor
            runner.run()
        wall = time.perf_counter() - started
        failure = watch.failure()
        if failure is not None:
            raise UserError(failure)
    return RenderResult(out, wav.frames / SAMPLE_RATE, wall, wav.phrase_starts[:source.phrases],
                        runner.session, runner.recorder.commands())


def render_script(lines: list[ScriptLine], out: Path, *, seed: int = 0, name: str = "<script>",
                  engine: GlicolEngine | None = None, show_progress: bool = True,
                  midi: Path | None = None) -> RenderResult:
    return render(script_source(lines, seed, name), out, engine=engine, show_progress=show_progress,
                  midi=midi)


class _Watch:
    """Ends a render at the first output that fails (a full disk, a broken engine): nothing
    more is worth rendering, and the render then fails with it."""

    def __init__(self, outputs: list[Output], targets: list[Path]) -> None:
        self.outputs = outputs
        self.targets = targets
        self.conductor: Conductor | None = None  # it drops an output that raises, and plays on

    def playing(self, source: Source) -> Callable[[Session], Iterator[Phrase]]:
        def play(session: Session) -> Iterator[Phrase]:
            for phrase in source.play(session):
                if self.failure() is not None:
                    return
                yield phrase

        return play

    def failure(self) -> str | None:
        for output, target in zip(self.outputs, self.targets, strict=True):
            reason = getattr(output, "failure", None)
            if reason is not None:
                return f"cannot write {target}: {reason}"
            if self.conductor is not None and output not in self.conductor.outputs:
                return f"cannot write {target}: its {output.name} output failed (above)"
        return None


def check_room(needed: int, wav: PartialFile) -> None:
    """Refuse up front a WAV of `needed` bytes its disk cannot hold, rather than fail when the
    disk is full."""
    if wav.in_place:
        return
    try:
        free = shutil.disk_usage(wav.path.parent).free
    except OSError:
        return
    if needed > free:
        raise UserError(f"cannot write {wav.target}: it needs {progress.size(needed)} and its disk "
                        f"has {progress.size(free)} free")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """A rehearsal's warnings would be said again by the render: it says only what stops it."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(previous)

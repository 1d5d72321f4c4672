"""Offline rendering: a performance script -> WAV through the Glicol engine, faster than real time."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ensemble import commands as cmd
from ensemble.clock import VirtualClock
from ensemble.conductor import Conductor
from ensemble.errors import UserError
from ensemble.glicol.engine import SAMPLE_RATE, GlicolEngine
from ensemble.outputs.base import Output
from ensemble.outputs.midifile import MidiFileOutput
from ensemble.outputs.wavfile import GlicolWavOutput
from ensemble.progress import Progress
from ensemble.script import ScriptLine, script_phrases
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


def render_script(lines: list[ScriptLine], out: Path, *, seed: int = 0, name: str = "<script>",
                  engine: GlicolEngine | None = None, show_progress: bool = True,
                  on_message: Callable[[str], None] = print, midi: Path | None = None) -> RenderResult:
    """Render through the conductor on a virtual clock: the live code path, as fast as it goes.

    With `midi`, a Standard MIDI File of the same performance is written alongside the WAV.
    """
    check_script(lines, seed, name)
    for path in (out, midi):  # every file is required offline: a bad path fails before rendering
        if path is not None:
            check_writable(path)
    started = time.perf_counter()
    session = Session(seed=seed, on_message=on_message)
    total = sum(line.command.phrases for line in lines if isinstance(line.command, cmd.Wait))
    progress = Progress(total, f"rendering {out.name}") if show_progress else None

    def phrase_done(index: int) -> None:
        if progress:
            progress.update(index + 1, f"phrase {index + 1}/{total}")

    wav = GlicolWavOutput(out, engine, on_phrase=phrase_done)
    outputs: list[Output] = [wav] if midi is None else [wav, MidiFileOutput(midi)]
    conductor = Conductor(script_phrases(lines, session), session.tempo, outputs, VirtualClock(),
                          on_message=on_message)
    conductor.run()
    audio_seconds = wav.frames / SAMPLE_RATE
    wall = time.perf_counter() - started
    if progress:
        progress.finish(f"{audio_seconds:.1f}s of audio at {audio_seconds / wall:.0f}x real time")
    return RenderResult(out, audio_seconds, wall, wav.phrase_starts[:total], session)

"""Offline: a performance rendered to WAV (and MIDI) through the live code path, on a virtual
clock, as fast as it goes."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ensemble.clock import VirtualClock
from ensemble.dsp import SAMPLE_RATE
from ensemble.errors import UserError
from ensemble.glicol.engine import GlicolEngine
from ensemble.glicol.wav_output import GlicolWavOutput
from ensemble.midi.file_output import MidiFileOutput
from ensemble.outputs.base import Output
from ensemble.performance.runner import Runner
from ensemble.performance.script import ScriptLine
from ensemble.performance.sources import Source, rehearse, script_source
from ensemble.session import Session


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


@contextlib.contextmanager
def progress(total: int, label: str, shown: bool) -> Iterator[Callable[[], None]]:
    """A progress bar on a terminal (prompt_toolkit's); elsewhere nothing: the caller prints a
    final line."""
    if not shown or not sys.stderr.isatty():
        yield lambda: None
        return
    from prompt_toolkit.shortcuts import ProgressBar

    with ProgressBar(file=sys.stderr) as bar:
        yield bar(label=label, total=total).item_completed


def render(source: Source, out: Path, *, engine: GlicolEngine | None = None, show_progress: bool = True,
           midi: Path | None = None) -> RenderResult:
    """Render `source` to the WAV file `out` (and a Standard MIDI File `midi`)."""
    if source.phrases is None:
        raise UserError(f"{source.name} never ends: nothing to render")
    for path in (out, midi):  # every file is required offline: a bad path fails before rendering
        if path is not None:
            check_writable(path)
    started = time.perf_counter()
    with progress(source.phrases, f"rendering {out.name}", show_progress) as advance:
        wav = GlicolWavOutput(out, engine, on_phrase=lambda index: advance())
        outputs: list[Output] = [wav] if midi is None else [wav, MidiFileOutput(midi)]
        runner = Runner(source, outputs, VirtualClock(), live=False)  # nobody types: no mix to follow
        runner.run()
    wall = time.perf_counter() - started
    return RenderResult(out, wav.frames / SAMPLE_RATE, wall, wav.phrase_starts[:source.phrases],
                        runner.session, runner.recorder.commands())


def render_script(lines: list[ScriptLine], out: Path, *, seed: int = 0, name: str = "<script>",
                  engine: GlicolEngine | None = None, show_progress: bool = True,
                  midi: Path | None = None) -> RenderResult:
    source = script_source(lines, seed, name)
    rehearse(source)
    return render(source, out, engine=engine, show_progress=show_progress, midi=midi)

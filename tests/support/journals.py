"""Journals of real performances, made quickly: a script played through the runner, its conductor
and its recorder, as `ensemble play --record` plays one on a laptop, on a virtual clock that
begins at a given wall time (so that several "laptops" begin where a test wants them to)."""

from __future__ import annotations

from pathlib import Path

from ensemble.clock import VirtualClock
from ensemble.midi.file_output import MidiFileOutput
from ensemble.performance.runner import Runner
from ensemble.performance.script import parse_script
from ensemble.performance.sources import script_source


def one_note(note: str, phrases: int = 3, agents: int = 1, tempo: int = 120) -> str:
    """A script whose agents can play nothing but `note`: a phrase of 4 steps of half a beat."""
    return (f"tempo {tempo}\nstep 0.5\nseed {note} {note} {note} {note}\n"
            f"set all palette=chromatic:{note}-{note} rests=off\nspawn {agents}\nwait {phrases}\n")


def record_laptop(path: Path, script: str, clock_start: float, seed: int = 0) -> Path:
    """Play `script` live, on a virtual clock reading `clock_start` (Unix seconds) at the start,
    recording its journal to `path`. Its beat 0 falls a lookahead and a start delay later."""
    source = script_source(parse_script(script, path.name), seed, path.name)
    played = path.with_name(f"{path.stem}.played.mid")  # the live output it played on
    runner = Runner(source, [MidiFileOutput(played)], VirtualClock(clock_start), live=False)
    runner.record(path)
    runner.run()
    return path

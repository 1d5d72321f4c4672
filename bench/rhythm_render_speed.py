"""Offline rendering speed with rhythm: ours vs the bare engine loop, rhythmic and pitch-only.

ours:  render_script on an 8-agent script to a temporary WAV (learning, sequencing, limiter,
       WAV writing): rhythmic (a seed with three lengths, `set all rhythm=0.25,0.5,1`) and, in
       the same run, pitch-only (the same pitches, one step each: bench/render_speed.py's task).
bare:  a fresh GlicolEngine playing, statically, the busiest program our render of the same
       script sent to the engine (captured in a warm-up render), at the same bpm: the prepared
       `process` call + one numpy read per block. Taking the sequencer's own program keeps the
       baseline honest whatever shape rhythmic programs take (more tokens, more chains).

As in bench/render_speed.py, the bare loop runs in lockstep with ours (each time our engine
renders a chunk, the bare loop renders as many blocks, timed apart and subtracted from ours'
wall time), and the whole is repeated; medians are reported.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from benchlib import logged, median, print_table, verdict
from render_speed import BareLoop, read_numpy

from ensemble.glicol.engine import BLOCK, SAMPLE_RATE, GlicolEngine
from ensemble.melody import Melody
from ensemble.performance.offline import render_script
from ensemble.performance.script import parse_script

RHYTHMIC = Melody.parse("C4:1 D4:0.5 E4:0.25 F4:0.25 G4:1 A4:0.5 B4:0.25 C5:0.25 "
                        "B4:0.5 A4:0.5 G4:0.25 F4:0.25 E4:0.5 D4:1 C4:0.5 _:0.5")
PITCH_ONLY = Melody(RHYTHMIC.notes)  # 16 steps of 0.5 beat: the same 8 beats a phrase
SCRIPTS = {"rhythm": (RHYTHMIC, ["set all rhythm=0.25,0.5,1"]), "pitch-only": (PITCH_ONLY, [])}
N_AGENTS = 8
TEMPO, STEP = 120.0, 0.5
TARGET_RATIO = 0.9
_SEQ = re.compile(r"\bseq\s([^>]*)")
_CHAIN = re.compile(r"^[a-z][a-z0-9_]*:", re.MULTILINE)  # a heard chain (references start with ~)


def script_text(melody: Melody, settings: list[str], phrases: int) -> str:
    return "\n".join([f"tempo {TEMPO:g}", f"step {STEP:g}", f"seed {melody}", *settings,
                      f"spawn {N_AGENTS}", f"wait {phrases}"])


def notes_in(program: str) -> int:
    """Sounding tokens of a program's seqs (a token with a digit: rests are `_`)."""
    return sum(any(c.isdigit() for c in token) for args in _SEQ.findall(program) for token in args.split())


@dataclass(frozen=True)
class Captured:
    program: str
    bpm: float


def capture(text: str, folder: Path, messages: list[str]) -> Captured:
    """A warm-up render of `text`; the busiest program it sent (not the ring-out's rests)."""
    engine = GlicolEngine(on_message=messages.append)
    programs: list[str] = []
    inner = engine.update

    def update(code: str) -> None:
        programs.append(code)
        inner(code)

    engine.update = update  # type: ignore[method-assign]
    render_script(parse_script(text, "bench"), folder / "warm.wav", seed=0, name="bench", engine=engine,
                  show_progress=False)
    busiest = max(reversed(programs), key=notes_in)  # ties: the latest
    return Captured(busiest, engine.bpm)


@dataclass(frozen=True)
class Run:
    ours: float  # x real time
    bare: float
    audio_seconds: float


def lockstep_run(text: str, captured: Captured, folder: Path, messages: list[str]) -> Run:
    bare = BareLoop(read_numpy, messages, prepared=True, program=captured.program, bpm=captured.bpm)
    engine = GlicolEngine(on_message=messages.append)
    inner = engine.render_into

    def render_into(out: np.ndarray) -> None:
        inner(out)
        bare.run(out.shape[0])

    engine.render_into = render_into  # type: ignore[method-assign]
    result = render_script(parse_script(text, "bench"), folder / "bench.wav", seed=0, name="bench",
                           engine=engine, show_progress=False)
    if bare.blocks * BLOCK / SAMPLE_RATE < result.audio_seconds:
        messages.append("the baseline rendered fewer blocks than ours")
    ours_wall = result.wall_seconds - bare.seconds
    return Run(result.audio_seconds / ours_wall, bare.speed(), result.audio_seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 phrases x 3 runs instead of 6 x 5")
    args = parser.parse_args()
    phrases, repeats = (3, 3) if args.quick else (6, 5)

    messages: list[str] = []
    runs: dict[str, list[Run]] = {name: [] for name in SCRIPTS}
    texts = {name: script_text(melody, settings, phrases) for name, (melody, settings) in SCRIPTS.items()}
    with tempfile.TemporaryDirectory() as name, logged(messages):
        folder = Path(name)
        captured = {key: capture(text, folder, messages) for key, text in texts.items()}
        for _ in range(repeats):  # interleaved, so drift in the machine's speed hits both alike
            for key, text in texts.items():
                runs[key].append(lockstep_run(text, captured[key], folder, messages))
    for message in sorted(set(messages)):
        print(f"engine message: {message}")

    rows, ratios = [], {}
    for key, key_runs in runs.items():
        per_run = [run.ours / run.bare for run in key_runs]
        ratios[key] = median(per_run)
        rows.append([key, f"{median([run.ours for run in key_runs]):.2f}",
                     f"{median([run.bare for run in key_runs]):.2f}", f"{ratios[key]:.2f}x",
                     f"{min(per_run):.2f}-{max(per_run):.2f}",
                     f"{len(_CHAIN.findall(captured[key].program))} / {notes_in(captured[key].program)}"])

    print(f"{N_AGENTS} agents, seed {RHYTHMIC} (pitch-only: 16 steps of {STEP:g} beat), tempo {TEMPO:g}; "
          f"{phrases} phrases -> {runs['rhythm'][0].audio_seconds:.1f} s of audio per run; {repeats} runs "
          f"each, interleaved, bare loop in lockstep")
    print_table(["script", "ours x real time", "bare x real time", "ours/bare (median)", "min-max",
                 "bare program: chains / notes"], rows)
    cost = median([p.ours / r.ours for r, p in zip(runs["rhythm"], runs["pitch-only"], strict=True)])
    print(f"rhythm's render takes {cost:.2f}x the wall time of pitch-only's (ours, per run, median)")
    verdict(f"rhythm: ours/bare >= {TARGET_RATIO} (got {ratios['rhythm']:.2f}; pitch-only in the same run "
            f"{ratios['pitch-only']:.2f})", ratios["rhythm"] >= TARGET_RATIO)


if __name__ == "__main__":
    main()

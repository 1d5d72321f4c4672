"""Offline rendering speed: seconds of audio per wall second, ours vs. bare engine loops.

ours:      render_script on an 8-agent script (16 steps, tempo 120, step 0.5: 4 s phrases)
           to a temporary WAV; includes learning, sequencing, limiter and WAV writing.
bare:      a fresh GlicolEngine playing an equivalent static 8-chain program (same voice
           nodes), the prepared `process` call + one numpy read per block, same block count.
raveforce: the same loop through wasmtime-py's public call, each block read sample by sample
           with struct.unpack, as RaveForce's Python client does.

The VM's speed drifts by +-20% within seconds, more than the gap being measured, so the
baselines run in lockstep with ours: each time render_script has the engine render a chunk
(about a phrase), both bare loops render the same number of blocks right after, timed apart
and subtracted from ours' wall time. The whole is repeated and the medians reported.
"""

from __future__ import annotations

import argparse
import struct
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from benchlib import logged, median, print_table, verdict

from ensemble.glicol.engine import BLOCK, SAMPLE_RATE, GlicolEngine
from ensemble.glicol.program import load_voices
from ensemble.melody import REST, Melody
from ensemble.performance.offline import render_script
from ensemble.performance.script import parse_script

MELODY = Melody.parse("C4 D4 E4 F4 G4 A4 B4 C5 B4 A4 G4 F4 E4 D4 C4 _")
N_AGENTS = 8
TEMPO, STEP = 120.0, 0.5
PHRASE_SECONDS = len(MELODY) * STEP * 60.0 / TEMPO
TARGET_RATIO = 0.9
_OUT_BYTES = 2 * BLOCK * 4  # planar stereo float32


def script_text(phrases: int) -> str:
    return "\n".join([f"tempo {TEMPO:g}", f"step {STEP:g}", f"seed {MELODY}", f"spawn {N_AGENTS}",
                      f"wait {phrases}"])


def bare_program() -> str:
    """One chain per agent as the sequencer writes it, minus the per-phrase note changes."""
    nodes = load_voices()["saw"].nodes(STEP * 60.0 / TEMPO)
    tokens = " ".join("_" if note == REST else str(note) for note in MELODY.notes)
    return "\n".join(f"a{i}: seq {tokens} >> {nodes} >> mul 0.1" for i in range(N_AGENTS))


def read_numpy(raw: bytes) -> object:
    return np.frombuffer(raw, "<f4")


def read_struct(raw: bytes) -> object:
    unpack = struct.unpack
    return [unpack("<f", raw[4 * k: 4 * k + 4])[0] for k in range(2 * BLOCK)]


class BareLoop:
    """A fresh engine on a static program (by default `bare_program()`, Glicol's bar (4 beats) one
    phrase), advanced chunk by chunk; start-up not timed."""

    def __init__(self, read: Callable[[bytes], object], messages: list[str], prepared: bool,
                 program: str | None = None, bpm: float = 240.0 / PHRASE_SECONDS) -> None:
        self.read = read
        self.prepared = prepared
        self.messages = messages
        self.engine = GlicolEngine(on_message=messages.append)
        self.engine.set_bpm(bpm)
        self.engine.update(bare_program() if program is None else program)
        self.seconds = 0.0
        self.blocks = 0

    def run(self, blocks: int) -> None:
        engine, read = self.engine, self.read
        # Locals: the loop should cost what a careful caller's loop costs, no attribute lookups.
        process, memory, store = engine._process, engine._memory, engine._store
        in_ptr, out_ptr, result = engine._in, engine._out, engine._result
        prepared = engine._process_block if self.prepared else None
        started = time.perf_counter()
        for _ in range(blocks):
            if prepared:
                prepared()
            else:
                process(store, in_ptr, out_ptr, 2 * BLOCK, result)
            read(memory.read(store, out_ptr, out_ptr + _OUT_BYTES))
        self.seconds += time.perf_counter() - started
        self.blocks += blocks

    def speed(self) -> float:
        result = self.engine._result
        if self.engine._memory.read(self.engine._store, result, result + 1)[0]:
            # A parse error would leave the engine silent and the baseline meaningless.
            self.messages.append("bare program: the engine reported an error")
        return self.blocks * BLOCK / SAMPLE_RATE / self.seconds


@dataclass
class Run:
    speeds: dict[str, float] = field(default_factory=dict)  # x real time per loop
    engine_share: float = 0.0  # of ours' wall time, inside GlicolEngine.render_into
    audio_seconds: float = 0.0


def lockstep_run(phrases: int, folder: Path, messages: list[str]) -> Run:
    loops = {"bare": BareLoop(read_numpy, messages, prepared=True),
             "raveforce": BareLoop(read_struct, messages, prepared=False)}
    engine = GlicolEngine(on_message=messages.append)
    inner = engine.render_into
    in_engine = 0.0

    def render_into(out: np.ndarray) -> None:
        nonlocal in_engine
        started = time.perf_counter()
        inner(out)
        in_engine += time.perf_counter() - started
        for loop in loops.values():
            loop.run(out.shape[0])

    engine.render_into = render_into  # type: ignore[method-assign]
    lines = parse_script(script_text(phrases), "bench")
    result = render_script(lines, folder / "bench.wav", seed=0, name="bench", engine=engine,
                           show_progress=False)
    ours_wall = result.wall_seconds - sum(loop.seconds for loop in loops.values())
    if any(loop.blocks * BLOCK / SAMPLE_RATE < result.audio_seconds for loop in loops.values()):
        messages.append("a baseline rendered fewer blocks than ours")
    run = Run(engine_share=in_engine / ours_wall, audio_seconds=result.audio_seconds)
    run.speeds["ours"] = result.audio_seconds / ours_wall
    run.speeds.update({name: loop.speed() for name, loop in loops.items()})
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 phrases x 3 runs instead of 6 x 5")
    parser.add_argument("--phrases", type=int, help="phrases per run (default 6, quick 3)")
    parser.add_argument("--repeats", type=int, help="runs (default 5, quick 3)")
    args = parser.parse_args()
    # ~10-18x real time here for each of the three loops: 6 phrases x 5 runs fits ~60 s.
    phrases = args.phrases or (3 if args.quick else 6)
    repeats = args.repeats or (3 if args.quick else 5)

    messages: list[str] = []
    with tempfile.TemporaryDirectory() as name, logged(messages):  # the render's diagnostics too
        lockstep_run(1, Path(name), messages)  # warm-up: wasm loaded, caches filled
        runs = [lockstep_run(phrases, Path(name), messages) for _ in range(repeats)]
    for message in messages:
        print(f"engine message: {message}")

    def row(label: str, key: str) -> list[str]:
        values = [run.speeds[key] for run in runs]
        ratios = [run.speeds["ours"] / run.speeds[key] for run in runs]
        return [label, f"{median(values):.2f}", f"{min(values):.1f}-{max(values):.1f}",
                f"{median(ratios):.2f}x", f"{min(ratios):.2f}-{max(ratios):.2f}"]

    print(f"{N_AGENTS} agents, {len(MELODY)} steps, {phrases} phrases -> {runs[0].audio_seconds:.1f} s "
          f"of audio per run (as render_script counts it); {repeats} runs, baselines in lockstep")
    print_table(
        ["loop", "x real time (median)", "min-max", "ours/this (median)", "min-max"],
        [row("ours (render_script -> WAV)", "ours"), row("bare (prepared process + numpy read)", "bare"),
         row("raveforce (struct.unpack per sample)", "raveforce")],
    )
    print(f"ours' wall time inside GlicolEngine.render_into: "
          f"{100 * median([run.engine_share for run in runs]):.1f}% (the rest: learning, sequencing, "
          f"limiter, WAV)")
    versus_bare = median([run.speeds["ours"] / run.speeds["bare"] for run in runs])
    verdict(f"ours/bare >= {TARGET_RATIO} (got {versus_bare:.2f})", versus_bare >= TARGET_RATIO)


if __name__ == "__main__":
    main()

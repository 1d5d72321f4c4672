"""Rendering a recorded performance: a 10-minute, 8-agent journal to WAV, against the bare engine.

The journal is recorded here from a session driven like the REPL drives it (commands landing on
phrase boundaries all along), then rendered with `ensemble.performance.offline.render`. The bare
loop (a GlicolEngine playing the same 8 chains, the prepared `process` call + numpy read) runs in
lockstep, chunk by chunk, as in render_speed.py, so both see the same machine. Also: the
journal's size per minute.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from benchlib import median, print_table, verdict
from render_speed import MELODY, N_AGENTS, STEP, TEMPO, BareLoop, read_numpy

from ensemble import commands as cmd
from ensemble.glicol.engine import GlicolEngine
from ensemble.logs import shown_on
from ensemble.performance.journal import Recorder, read_journal
from ensemble.performance.offline import render
from ensemble.performance.sources import journal_source
from ensemble.session import Session

TARGET_RATIO = 0.9
PHRASE_SECONDS = len(MELODY) * STEP * 60.0 / TEMPO


def record(path: Path, minutes: float) -> None:
    """A performance as typed: set-up, then a change every few phrases, as a performer would."""
    session = Session(seed=1)
    for line in (f"tempo {TEMPO:g}", f"step {STEP:g}", f"seed {MELODY}", f"spawn {N_AGENTS}"):
        session.submit(cmd.parse_command(line))
    recorder = Recorder(session)
    recorder.start(path, ["glicol"])
    rng = np.random.default_rng(0)
    for phrase in range(round(minutes * 60 / PHRASE_SECONDS)):
        if phrase % 6 == 5:
            agent = f"a{rng.integers(N_AGENTS)}"
            change = rng.choice([f"set {agent} epsilon={rng.uniform(0, 0.5):.2f}",
                                 f"set {agent} alpha={rng.uniform(0.2, 1):.2f}",
                                 f"voice {agent} {rng.choice(['saw', 'square', 'tri'])}"])
            session.submit(cmd.parse_command(str(change)))
        session.next_phrase()
    recorder.stop()


def lockstep(journal_path: Path, folder: Path) -> tuple[float, float, float]:
    """(ours x real time, bare x real time, audio seconds) for one render."""
    bare = BareLoop(read_numpy, [], prepared=True)
    engine = GlicolEngine(on_message=print)
    inner = engine.render_into

    def render_into(out: np.ndarray) -> None:
        inner(out)
        bare.run(out.shape[0])

    engine.render_into = render_into  # type: ignore[method-assign]
    started = time.perf_counter()
    result = render(journal_source(read_journal(journal_path)), folder / "journal.wav", engine=engine,
                    show_progress=False)
    ours_wall = time.perf_counter() - started - bare.seconds
    return result.audio_seconds / ours_wall, bare.speed(), result.audio_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the performance (default 10)")
    parser.add_argument("--quick", action="store_true", help="a 2-minute performance")
    parser.add_argument("--repeats", type=int, default=3, help="renders (default 3)")
    args = parser.parse_args()
    minutes = 2.0 if args.quick else args.minutes

    with tempfile.TemporaryDirectory() as name, shown_on(sys.stdout):  # diagnostics printed, as before
        folder = Path(name)
        path = folder / "performance.jsonl"
        record(path, minutes)
        size = path.stat().st_size
        journal = read_journal(path)
        runs = [lockstep(path, folder) for _ in range(args.repeats)]
    ours, bare = median([r[0] for r in runs]), median([r[1] for r in runs])
    audio = runs[0][2]
    print(f"{N_AGENTS} agents, {journal.phrases} phrases ({audio / 60:.1f} min of audio), "
          f"{sum(len(c) for c in journal.commands.values())} commands; median of {args.repeats} renders")
    print_table(["measure", "ours (render journal -> WAV)", "bare engine loop", "ours/bare"], [
        ["x real time", f"{ours:.1f}", f"{bare:.1f}", f"{ours / bare:.2f}"],
        ["wall seconds", f"{audio / ours:.1f}", f"{audio / bare:.1f}", ""],
    ])
    print(f"journal: {size:,} bytes, {size / (audio / 60) / 1024:.1f} KiB per minute of performance")
    verdict(f"ours/bare >= {TARGET_RATIO} (got {ours / bare:.2f})", ours / bare >= TARGET_RATIO)


if __name__ == "__main__":
    main()

"""Learning throughput with rhythm: agent-attempts per second, rhythmic vs pitch-only QBank.

64 agents on a 16-step melody, every agent active and copying the seed (targets fixed: only
learning is timed), through QBank.attempt as the Chain calls it:
- rhythm: a seed with three lengths, rhythm palette 0.25,0.5,1 (factored: a table of 9 notes
  and one of 3 lengths), the seed's lengths passed as targets; rewards compare notes and lengths;
- pitch-only: the same pitches, default settings (9 actions), no lengths.
Measurements are interleaved and repeated; the medians are reported.
"""

from __future__ import annotations

import argparse

import numpy as np
from benchlib import calls_per_second, median, print_table, ratio, verdict

from ensemble.learning.qlearning import QBank
from ensemble.learning.settings import LearningSettings
from ensemble.melody import Melody

RHYTHMIC = Melody.parse("C4:1 D4:0.5 E4:0.25 F4:0.25 G4:1 A4:0.5 B4:0.25 C5:0.25 "
                        "B4:0.5 A4:0.5 G4:0.25 F4:0.25 E4:0.5 D4:1 C4:0.5 _:0.5")
PITCH_ONLY = Melody(RHYTHMIC.notes)
RHYTHM = "0.25,0.5,1"
STEP_TICKS = 8  # the Chain's step (0.5 beat), in ticks
N_AGENTS = 64
TARGET_RATIO = 0.5


def qbank_rate(melody: Melody, changes: dict[str, str], seconds: float, seed: int) -> float:
    """Attempts per second over at least `seconds`; a fresh bank so each run starts alike."""
    bank = QBank(len(melody), np.random.default_rng(seed))
    hyper = LearningSettings().changed(changes)
    for _ in range(N_AGENTS):
        bank.add(hyper)
    targets = np.tile(np.array(melody.notes, dtype=np.int64), (N_AGENTS, 1))
    lengths = np.tile(np.array(melody.ticks(STEP_TICKS), dtype=np.int64), (N_AGENTS, 1))
    target_lengths = lengths if melody.rhythmic or bank.rhythmic else None  # as the Chain decides
    active = np.ones(N_AGENTS, dtype=bool)
    return calls_per_second(lambda: bank.attempt(targets, active, None, target_lengths, STEP_TICKS),
                            seconds) * N_AGENTS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter measurements")
    args = parser.parse_args()
    seconds, repeats = (0.3, 3) if args.quick else (1.5, 5)

    rhythm, pitch = [], []
    for run in range(repeats):
        rhythm.append(qbank_rate(RHYTHMIC, {"rhythm": RHYTHM}, seconds, run))
        pitch.append(qbank_rate(PITCH_ONLY, {}, seconds, run))
    rate, base = median(rhythm), median(pitch)
    ratios = [r / p for r, p in zip(rhythm, pitch, strict=True)]

    hyper = LearningSettings().changed({"rhythm": RHYTHM})
    print(f"{N_AGENTS} agents, {len(RHYTHMIC)} steps; rhythm: seed {RHYTHMIC}, rhythm {RHYTHM}, "
          f"{len(hyper.actions)} notes + {len(hyper.lengths)} lengths; "
          f"pitch-only: {len(hyper.actions)} notes; "
          f"median of {repeats} interleaved runs of {seconds:g} s")
    print_table(
        ["measure", "rhythm", "pitch-only", "rhythm/pitch-only"],
        [["agent-attempts/s", f"{rate:,.0f}", f"{base:,.0f}", ratio(rate, base)],
         ["us per 64-agent round", f"{1e6 * N_AGENTS / rate:.1f}", f"{1e6 * N_AGENTS / base:.1f}",
          ratio(base, rate)],
         ["ratio per run, min-max", "", "", f"{min(ratios):.2f}-{max(ratios):.2f}"]],
    )
    verdict(f"rhythm >= {TARGET_RATIO:g}x pitch-only (got {rate / base:.2f}x)", rate / base >= TARGET_RATIO)


if __name__ == "__main__":
    main()

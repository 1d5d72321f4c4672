"""Learning throughput: agent-attempts per second, QBank vs. a plain-Python reference.

64 agents on a 16-step melody, default learning settings, every agent active and every agent
copying the seed (so the targets are fixed and only learning is timed, not the chain).
Measurements are interleaved and repeated; the medians are reported.
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np
from benchlib import calls_per_second, median, print_table, ratio, verdict
from reference import ReferenceAgent

from ensemble.learning.qlearning import QBank
from ensemble.learning.settings import LearningSettings
from ensemble.melody import Melody

MELODY = Melody.parse("C4 D4 E4 F4 G4 A4 B4 C5 B4 A4 G4 F4 E4 D4 C4 _")
N_AGENTS = 64
TARGET_RATE = 100_000
TARGET_RATIO = 20.0


def qbank_rate(seconds: float, seed: int) -> float:
    """Attempts per second over at least `seconds`; a fresh bank so each run starts alike."""
    bank = QBank(len(MELODY), np.random.default_rng(seed))
    for _ in range(N_AGENTS):
        bank.add(LearningSettings())
    targets = np.tile(np.array(MELODY.notes, dtype=np.int64), (N_AGENTS, 1))
    active = np.ones(N_AGENTS, dtype=bool)
    return calls_per_second(lambda: bank.attempt(targets, active), seconds) * N_AGENTS


def reference_rate(seconds: float, seed: int) -> float:
    rng = random.Random(seed)
    agents = [ReferenceAgent(len(MELODY), LearningSettings(), rng) for _ in range(N_AGENTS)]
    target = list(MELODY.notes)
    rounds = 0
    started = time.perf_counter()
    elapsed = 0.0
    while elapsed < seconds:
        for agent in agents:
            agent.attempt(target)
        rounds += 1
        elapsed = time.perf_counter() - started
    return rounds * N_AGENTS / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter measurements")
    args = parser.parse_args()
    seconds, repeats = (0.3, 3) if args.quick else (1.5, 5)

    ours, ref = [], []
    for run in range(repeats):
        ours.append(qbank_rate(seconds, run))
        ref.append(reference_rate(seconds, run))
    rate, ref_rate = median(ours), median(ref)

    print(f"{N_AGENTS} agents, {len(MELODY)} steps, {len(LearningSettings().actions)} actions, "
          f"targets = seed for all; median of {repeats} runs of {seconds:g} s")
    print_table(
        ["measure", "ours (QBank)", "reference (plain Python)", "ours/reference"],
        [["agent-attempts/s", f"{rate:,.0f}", f"{ref_rate:,.0f}", ratio(rate, ref_rate)],
         ["us per 64-agent round", f"{1e6 * N_AGENTS / rate:.1f}", f"{1e6 * N_AGENTS / ref_rate:.1f}",
          ratio(ref_rate, rate)]],
    )
    met = rate >= TARGET_RATE and rate / ref_rate >= TARGET_RATIO
    verdict(f">= {TARGET_RATE:,} attempts/s (got {rate:,.0f}) and >= {TARGET_RATIO:g}x reference "
            f"(got {rate / ref_rate:.1f}x)", met)


if __name__ == "__main__":
    main()

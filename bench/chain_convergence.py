"""Chain convergence: how soon a whole chain of 8 agents plays the seed melody exactly.

Chain(seed=i) for i in range(100), 8 agents (a0 copies the seed, a(k) copies a(k-1)'s
greedy melody), default learning settings (major:C4-C5 with rests), 16-step melody. A seed has
converged at the first phrase in which every agent's heard attempt equals the seed exactly.
The baseline is the same chain built from the plain-Python reference agents.
"""

from __future__ import annotations

import argparse
import random

from benchlib import median, print_table, ratio, verdict
from reference import ReferenceAgent

from ensemble.learning.chain import Chain
from ensemble.learning.settings import LearningSettings
from ensemble.melody import Melody

MELODY = Melody.parse("C4 D4 E4 F4 G4 A4 B4 C5 B4 A4 G4 F4 E4 D4 C4 _")
N_AGENTS = 8
MAX_PHRASES = 200


def converged_at_chain(seed: int) -> int | None:
    chain = Chain(MELODY, seed=seed)
    chain.spawn(N_AGENTS)
    for phrase in range(1, MAX_PHRASES + 1):
        heard = [a.played for a in chain.step() if a.heard]
        if all(played == MELODY.notes for played in heard):
            return phrase
    return None


def converged_at_reference(seed: int) -> int | None:
    rng = random.Random(seed)
    agents = [ReferenceAgent(len(MELODY), LearningSettings(), rng) for _ in range(N_AGENTS)]
    seed_notes = list(MELODY.notes)
    for phrase in range(1, MAX_PHRASES + 1):
        # Targets are read before anyone learns this round, as in Chain.step.
        targets = [seed_notes] + [agent.greedy() for agent in agents[:-1]]
        played = [agent.attempt(target) for agent, target in zip(agents, targets, strict=True)]
        if all(notes == seed_notes for notes in played):
            return phrase
    return None


def summary(phrases: list[int | None]) -> tuple[float, float, int]:
    """Share converged (%), median and max phrase of convergence among those that did."""
    done = [p for p in phrases if p is not None]
    share = 100.0 * len(done) / len(phrases)
    return share, (median(done) if done else float("nan")), (max(done) if done else 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 seeds instead of 100")
    args = parser.parse_args()
    seeds = range(20 if args.quick else 100)

    ours = summary([converged_at_chain(seed) for seed in seeds])
    ref = summary([converged_at_reference(seed) for seed in seeds])

    print(f"{N_AGENTS} agents, melody {MELODY}, {len(seeds)} seeds, up to {MAX_PHRASES} phrases")
    print_table(
        ["measure", "ours (Chain)", "reference (plain Python)", "ours/reference"],
        [["converged (%)", f"{ours[0]:.0f}", f"{ref[0]:.0f}", ratio(ours[0], ref[0])],
         ["median phrase", f"{ours[1]:g}", f"{ref[1]:g}", ratio(ours[1], ref[1])],
         ["max phrase", str(ours[2]), str(ref[2]), ratio(ours[2], ref[2])]],
    )
    verdict(f"100% of seeds converge within {MAX_PHRASES} phrases (got {ours[0]:.0f}%)", ours[0] == 100.0)


if __name__ == "__main__":
    main()

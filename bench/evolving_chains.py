"""Evolving chains: does a small-interval prior make melodies drift along a chain, as they do
along chains of human singers (Anglada-Tort et al. 2023: toward small intervals and few pitches)?

SEEDS random 8-note seeds (uniform over two chromatic octaves, C3-B4, no rests), each through a
chain of 8 agents (a0 copies the seed, a(k) copies a(k-1)) for PHRASES phrases, in two
conditions in the same run, with the same seeds and the same random streams: agents with the
prior (`prior=stepwise`) and agents without it (`prior=none`). Other settings, the same in both:
palette chromatic:C3-B4 without rests, `reward=near` (a near miss scores nearly a hit: the
tolerant copier a prior can lean on), `epsilon_decay=0.99` (time to explore). At the end, each
generation's melody is its agent's greedy melody (generation 0: the seed); per generation, over
the seeds: mean absolute interval (semitones), pitch-set size (distinct pitches) and interval
entropy (bits), the measures of `ensemble analyze` (ensemble/measures.py).

Target (issue "Chains that evolve"): with the prior, interval size and pitch-set size fall with
generation, by at least 20% from the seed to the 8th agent; without it, they stay within 5% of
the seed.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from benchlib import print_table, verdict

from ensemble.learning.chain import Chain
from ensemble.measures import interval_entropy, mean_absolute_interval, pitch_set_size
from ensemble.melody import Melody

AGENTS = 8
LOW, HIGH = 48, 71  # C3..B4: two chromatic octaves
SETTINGS = {"palette": "chromatic:C3-B4", "rests": "off", "reward": "near", "epsilon_decay": "0.99"}
PRIOR = {"prior": "stepwise", "prior_strength": "1"}


def random_seed(rng: random.Random) -> Melody:
    return Melody(tuple(rng.randint(LOW, HIGH) for _ in range(8)))


def generations(seed: Melody, chain_seed: int, prior: bool, phrases: int) -> list[tuple[int, ...]]:
    """The seed, then each agent's greedy melody after `phrases` phrases."""
    chain = Chain(seed, seed=chain_seed)
    chain.spawn(AGENTS)
    chain.configure("all", SETTINGS | (PRIOR if prior else {"prior": "none"}))
    for _ in range(phrases):
        chain.step()
    return [seed.notes] + [chain.greedy(name) for name in chain.names]


def per_generation(runs: list[list[tuple[int, ...]]]) -> list[tuple[float, float, float]]:
    """Mean over the runs of each generation's (interval, pitch set, entropy)."""
    rows = []
    for generation in range(AGENTS + 1):
        melodies = [run[generation] for run in runs]
        rows.append((statistics.fmean(mean_absolute_interval(m) or 0.0 for m in melodies),
                     statistics.fmean(pitch_set_size(m) for m in melodies),
                     statistics.fmean(interval_entropy(m) or 0.0 for m in melodies)))
    return rows


def change(rows: list[tuple[float, float, float]], column: int) -> float:
    """From the seed to the last generation, as a fraction of the seed's."""
    return rows[-1][column] / rows[0][column] - 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="20 seeds and 150 phrases instead of 100 and 300")
    args = parser.parse_args()
    seeds, phrases = (20, 150) if args.quick else (100, 300)
    rng = random.Random(16)
    melodies = [random_seed(rng) for _ in range(seeds)]
    began = time.perf_counter()
    with_prior = per_generation([generations(m, i, True, phrases) for i, m in enumerate(melodies)])
    without = per_generation([generations(m, i, False, phrases) for i, m in enumerate(melodies)])
    print(f"{seeds} random 8-note seeds (C3-B4, chromatic), chains of {AGENTS}, {phrases} phrases; "
          f"settings {' '.join(f'{k}={v}' for k, v in SETTINGS.items())}; the prior: "
          f"{' '.join(f'{k}={v}' for k, v in PRIOR.items())} ({time.perf_counter() - began:.0f} s)")
    print_table(
        ["generation", "interval (prior)", "no prior", "pitch set (prior)", "no prior",
         "entropy bits (prior)", "no prior"],
        [[str(g) if g else "seed", *(f"{value:.2f}" for pair in zip(a, b, strict=True) for value in pair)]
         for g, (a, b) in enumerate(zip(with_prior, without, strict=True))],
    )
    for column, name in ((0, "mean absolute interval"), (1, "pitch-set size"), (2, "interval entropy")):
        print(f"{name}: seed -> 8th agent {change(with_prior, column):+.0%} with the prior, "
              f"{change(without, column):+.0%} without")
    falls = change(with_prior, 0) <= -0.2 and change(with_prior, 1) <= -0.2
    verdict(f"with the prior, interval and pitch-set size fall by >= 20% (got {change(with_prior, 0):+.0%}, "
            f"{change(with_prior, 1):+.0%})", falls)
    stays = abs(change(without, 0)) <= 0.05 and abs(change(without, 1)) <= 0.05
    verdict(f"without it, both stay within 5% of the seed (got {change(without, 0):+.0%}, "
            f"{change(without, 1):+.0%})", stays)


if __name__ == "__main__":
    main()

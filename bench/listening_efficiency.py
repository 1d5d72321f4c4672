"""Listening vs symbolic agents on the original notebook's task: attempts to the first hit.

One agent copies C4 E4 G4 E4 C4 from the twelve chromatic notes C4-B4, no rests. Symbolic:
told +1/-1 per note. Listening: rewarded by how its rendered step sounds against the target's
(the real Glicol engine; one ear shared by all seeds, so each note is rendered once). Figures:
the first fully correct attempt (1-based), median over seeds, side by side in the same run.
"""

from __future__ import annotations

import argparse

import numpy as np
from benchlib import median, print_table, ratio, verdict
from sample_efficiency import CAP, MELODY, PRESETS, TASK  # the same task, presets and cap

from ensemble import commands as cmd
from ensemble.listening.ear import Ear
from ensemble.session import Session

# The seed sounds as a saw; a square-voiced listener hears it through another timbre.
REWARDS = {"symbolic (exact)": {"reward": "exact"}, "listening, saw": {"reward": "listen"},
           "listening, square": {"reward": "listen", "voice": "square"}}
LIMIT = 2.0  # listening <= 2x symbolic


def first_correct(changes: dict[str, str], seed: int, ear: Ear) -> int:
    session = Session(seed=seed, ear=lambda: ear)  # the session hears listeners in their voice
    session.apply(cmd.Seed(MELODY))
    session.apply(cmd.Spawn(1))
    session.apply(cmd.Set("a0", changes))
    for attempt in range(1, CAP + 1):
        if session.chain.step()[0].accuracy == 1.0:
            return attempt
    return CAP


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 seeds instead of 100")
    args = parser.parse_args()
    seeds = range(20 if args.quick else 100)
    ear = Ear()

    rows, worst = [], 0.0
    for preset, preset_changes in PRESETS.items():
        medians = {}
        for label, reward_changes in REWARDS.items():
            found = [first_correct({**TASK, **preset_changes, **reward_changes}, seed, ear) for seed in seeds]
            medians[label] = median(found)
            baseline = medians["symbolic (exact)"]
            rows.append([f"{preset}: {label}", f"{medians[label]:g}",
                         f"{np.percentile(found, 90):g} / {max(found)}", ratio(medians[label], baseline)])
            worst = max(worst, medians[label] / baseline)
    print(f"melody {MELODY}, 12 actions, {len(seeds)} seeds; first fully correct attempt (1-based); "
          f"{ear.renders} notes rendered in all")
    print_table(["agent", "median", "90th pct / max", "vs symbolic"], rows)
    verdict(f"listening median <= {LIMIT:g}x symbolic (worst {worst:.2f}x)", worst <= LIMIT)


if __name__ == "__main__":
    main()

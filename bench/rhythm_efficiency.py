"""Sample efficiency with rhythm: attempts until a0 copies a seed with mixed lengths exactly.

a0 copies an 8-note seed with three different lengths (rhythm palette = those three lengths,
`set all rhythm=0.5,1,2`; default palette major:C4-C5 with rests) and, in the same run, the
same 8 pitches at one length (default step and rhythm). Figure: the first attempt (1-based)
exactly right, note and length at every step; median over seeds.

Two representations of a move are measured side by side, with the same settings:
- factored (ensemble's QBank, through a real Chain, chosen by this bench): a Q-table over notes
  (9) and one over lengths (3), chosen independently with the same epsilon; the note table
  learns from the pitch part of the reward, the length table from the timing part;
- joint (JointAgent below, self-contained): one action per (note, length) pair, 9 x 3 = 27,
  learning from the whole exact reward.
A check row runs JointAgent on the pitch-only task (one length: it is then plain Q-learning on
notes), which should match the Chain's pitch-only figure.
"""

from __future__ import annotations

import argparse

import numpy as np
from benchlib import median, print_table, ratio, verdict

from ensemble.learning.chain import Chain
from ensemble.learning.settings import LearningSettings
from ensemble.melody import Melody
from ensemble.rhythm import STEP

RHYTHMIC = Melody.parse("C4:1 E4:0.5 G4:0.5 C5:2 B4:0.5 G4:0.5 E4:1 D4:2")
PITCH_ONLY = Melody(RHYTHMIC.notes)  # the same pitches, each one step
RHYTHM = "0.5,1,2"
STEP_TICKS = 8  # the Chain's step (0.5 beat), in ticks
PRESETS = {"defaults": {}, "fast (epsilon=0 alpha=1)": {"epsilon": "0", "alpha": "1"}}
TARGET_RATIO = 2.0  # rhythmic / pitch-only, judged on the defaults
CAP = 2000  # attempts before a seed counts as a failure (reported as CAP)
_TIE_NOISE = 1e-12  # random tie-breaks, as QBank does them


def first_exact_chain(melody: Melody, changes: dict[str, str], seed: int) -> int:
    """The real thing: agent a0 of a Chain copying the seed, as a performance runs it."""
    chain = Chain(melody, seed=seed)
    chain.step_length = STEP_TICKS
    chain.configure("all", changes)
    chain.spawn(1)
    for attempt in range(1, CAP + 1):
        (heard,) = chain.step()
        if heard.accuracy == 1.0:
            return attempt
    return CAP


class JointAgent:
    """One agent, one Q-table over every (note, length) pair (steps x pairs), epsilon-greedy,
    updated from the exact reward of the pair (+1 only when note and length are both right)."""

    def __init__(self, n_steps: int, hyper: LearningSettings, rng: np.random.Generator) -> None:
        self.notes = np.array([note for note, _ in hyper.moves])
        self.lengths = np.array([length for _, length in hyper.moves])
        initial = 1.0 if hyper.init == "optimistic" else 0.0
        self.q = np.full((n_steps, len(hyper.moves)), initial)
        self.alpha, self.epsilon = hyper.alpha, hyper.epsilon
        self.decay, self.floor = hyper.epsilon_decay, hyper.epsilon_min
        self.rng = rng

    def attempt(self, target_notes: np.ndarray, target_lengths: np.ndarray,
                step: int) -> tuple[np.ndarray, np.ndarray]:
        """One pass: returns (notes, lengths in ticks) played, having learned from it."""
        steps = np.arange(len(target_notes))
        n_steps, n_actions = self.q.shape
        explore = self.rng.random(n_steps) < self.epsilon
        random_choice = self.rng.integers(n_actions, size=n_steps)
        greedy = (self.q + self.rng.random(self.q.shape) * _TIE_NOISE).argmax(axis=1)
        choice = np.where(explore, random_choice, greedy)
        notes = self.notes[choice]
        lengths = np.where(self.lengths[choice] == STEP, step, self.lengths[choice])
        reward = np.where((notes == target_notes) & (lengths == target_lengths), 1.0, -1.0)
        self.q[steps, choice] += self.alpha * (reward - self.q[steps, choice])
        self.epsilon = max(min(self.floor, self.epsilon), self.epsilon * self.decay)  # as QBank
        return notes, lengths


def first_exact_joint(melody: Melody, changes: dict[str, str], seed: int) -> int:
    agent = JointAgent(len(melody), LearningSettings().changed(changes), np.random.default_rng(seed))
    target_notes = np.array(melody.notes)
    target_lengths = np.array(melody.ticks(STEP_TICKS))
    for attempt in range(1, CAP + 1):
        notes, lengths = agent.attempt(target_notes, target_lengths, STEP_TICKS)
        if np.array_equal(notes, target_notes) and np.array_equal(lengths, target_lengths):
            return attempt
    return CAP


def summary(values: list[int]) -> str:
    return f"{median(values):g} ({np.percentile(values, 90):g} / {max(values)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 seeds instead of 100")
    args = parser.parse_args()
    seeds = range(20 if args.quick else 100)

    rows, medians = [], {}
    for label, preset in PRESETS.items():
        rhythmic = {**preset, "rhythm": RHYTHM}
        runs = {
            "pitch-only (QBank)": [first_exact_chain(PITCH_ONLY, preset, s) for s in seeds],
            "rhythm, factored (QBank)": [first_exact_chain(RHYTHMIC, rhythmic, s) for s in seeds],
            "rhythm, joint": [first_exact_joint(RHYTHMIC, rhythmic, s) for s in seeds],
            "check: pitch-only, joint": [first_exact_joint(PITCH_ONLY, preset, s) for s in seeds],
        }
        base = median(runs["pitch-only (QBank)"])
        for name, values in runs.items():
            medians[label, name] = median(values)
            rows.append([f"{label}: {name}", summary(values), ratio(median(values), base)])

    hyper = LearningSettings().changed({"rhythm": RHYTHM})
    print(f"seed {RHYTHMIC} (pitch-only: {PITCH_ONLY}), step 0.5 beat; palette {hyper.palette} "
          f"with rests: {len(hyper.actions)} notes x {len(hyper.rhythm.lengths)} lengths = "
          f"{len(hyper.moves)} joint actions, or {len(hyper.actions)} + {len(hyper.rhythm.lengths)} factored;"
          f" {len(seeds)} seeds; first exactly correct attempt (1-based)")
    print_table(["task: representation", "median (90th pct / max)", "/ pitch-only"], rows)
    base = medians["defaults", "pitch-only (QBank)"]
    for name in ("rhythm, factored (QBank)", "rhythm, joint"):
        got = medians["defaults", name]
        verdict(f"{name}: median <= {TARGET_RATIO:g}x pitch-only with defaults "
                f"(got {got:g} / {base:g} = {got / base:.2f}x)", got <= TARGET_RATIO * base)


if __name__ == "__main__":
    main()

"""A plain-Python reference of the agents' learning: lists and `random`, one agent at a time.

Same algorithm as ensemble.learning.qlearning.QBank (tabular Q-learning, state = step position,
epsilon-greedy with a random tie-break, exact reward +1/-1, alpha/gamma update, per-attempt
epsilon decay), written the obvious way so the benches have an in-run baseline to beat.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from ensemble.learning.settings import LearningSettings


class ReferenceAgent:
    def __init__(self, n_steps: int, hyper: LearningSettings, rng: random.Random) -> None:
        self.actions: tuple[int, ...] = hyper.actions
        self.alpha = hyper.alpha
        self.gamma = hyper.gamma
        self.epsilon = hyper.epsilon
        self.epsilon_decay = hyper.epsilon_decay
        self.epsilon_min = hyper.epsilon_min
        self.rng = rng
        initial = 1.0 if hyper.init == "optimistic" else 0.0
        self.q: list[list[float]] = [[initial] * len(self.actions) for _ in range(n_steps)]

    def choose(self, step: int) -> int:
        rng = self.rng
        if rng.random() < self.epsilon:
            return rng.randrange(len(self.actions))
        row = self.q[step]
        best = max(row)
        return rng.choice([i for i, value in enumerate(row) if value == best])

    def attempt(self, target: Sequence[int]) -> list[int]:
        """Play one pass at `target`, learn from it, and return the notes played."""
        q, actions = self.q, self.actions
        n_steps = len(target)
        played = []
        for step in range(n_steps):
            choice = self.choose(step)
            note = actions[choice]
            played.append(note)
            reward = 1.0 if note == target[step] else -1.0
            # Steps go in order, so q[step + 1] is still as it was before this attempt,
            # like QBank's one-pass update.
            best_next = max(q[step + 1]) if step + 1 < n_steps else 0.0
            current = q[step][choice]
            q[step][choice] = current + self.alpha * (reward + self.gamma * best_next - current)
        # As QBank: decay stops at the floor, an epsilon set below it stays where it was put.
        self.epsilon = max(min(self.epsilon_min, self.epsilon), self.epsilon * self.epsilon_decay)
        return played

    def greedy(self) -> list[int]:
        """Best note per step; ties go to the lowest action, as in QBank.greedy."""
        melody = []
        for row in self.q:
            best = max(row)
            melody.append(self.actions[row.index(best)])
        return melody

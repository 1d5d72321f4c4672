"""Tabular Q-learning for many agents at once, on stacked numpy arrays.

State = step position in the phrase, action = a note of the agent's palette (or rest).
Each agent owns one row of every array; agents with smaller palettes are padded with
actions that can never be chosen. Knows nothing of time or sound.
"""

from __future__ import annotations

import functools

import numpy as np

from ensemble.learning.rewards import REWARD_CODES, Listen, rewards
from ensemble.learning.settings import LearningSettings

PADDING = -2  # the note of an action slot an agent does not have; never equals a target
# Ties between equal Q-values are broken at random on every attempt: an untrained agent then
# searches its palette without repeating itself, and one whose every action scored the same
# keeps trying them all. Random bytes, scaled far below any real gap, are the cheapest noise.
_TIE_NOISE_SCALE = 1e-12


class QBank:
    """The Q-tables and learning state of a population of agents, one row each."""

    def __init__(self, n_steps: int, rng: np.random.Generator) -> None:
        self.rng = rng
        self.n_steps = n_steps
        self.q = np.zeros((0, n_steps, 1))
        self.notes = np.full((0, 1), PADDING, dtype=np.int64)
        self.n_actions = np.zeros(0, dtype=np.int64)
        self.epsilon = np.zeros(0)
        self.hyper: list[LearningSettings] = []
        self._refresh_parameters()

    def __len__(self) -> int:
        return len(self.hyper)

    # -- population -------------------------------------------------------------------------

    def add(self, hyper: LearningSettings) -> int:
        """Add an agent with fresh Q-values; returns its row."""
        actions = hyper.actions
        width = max(self.q.shape[2], len(actions))
        self._widen(width)
        notes = np.full((1, width), PADDING, dtype=np.int64)
        notes[0, : len(actions)] = actions
        self.notes = np.concatenate([self.notes, notes])
        self.q = np.concatenate([self.q, self._initial_q(hyper, len(actions), width)])
        self.n_actions = np.append(self.n_actions, len(actions))
        self.epsilon = np.append(self.epsilon, hyper.epsilon)
        self.hyper.append(hyper)
        self._refresh_parameters()
        return len(self.hyper) - 1

    def remove(self, row: int) -> None:
        for name in ("q", "notes", "n_actions", "epsilon"):
            setattr(self, name, np.delete(getattr(self, name), row, axis=0))
        del self.hyper[row]
        self._refresh_parameters()

    def configure(self, row: int, hyper: LearningSettings) -> None:
        """Change an agent's hyperparameters, keeping what it learned of notes it still has."""
        old = self.hyper[row]
        if hyper.epsilon != old.epsilon:
            self.epsilon[row] = hyper.epsilon
        if hyper.actions != old.actions or hyper.init != old.init:
            self._replace_palette(row, old, hyper)
        self.hyper[row] = hyper
        self._refresh_parameters()

    def forget(self, row: int) -> None:
        hyper = self.hyper[row]
        self.q[row] = self._initial_q(hyper, len(hyper.actions), self.q.shape[2])[0]
        self.epsilon[row] = hyper.epsilon

    def resize_steps(self, n_steps: int) -> None:
        """A new melody length: keep the steps that still exist, start new ones fresh."""
        keep = min(n_steps, self.n_steps)
        width = self.q.shape[2]
        q = np.concatenate([self._initial_q(h, len(h.actions), width, n_steps) for h in self.hyper]
                           or [np.zeros((0, n_steps, width))])
        q[:, :keep] = self.q[:, :keep]
        self.q, self.n_steps = q, n_steps

    # -- learning ---------------------------------------------------------------------------

    def greedy(self) -> np.ndarray:
        """Each agent's current best melody as notes, shape (agents, steps); ties go low."""
        return np.take_along_axis(self.notes, np.argmax(self.q, axis=2), axis=1)

    def attempt(self, targets: np.ndarray, active: np.ndarray,
                listen: Listen | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Every active agent plays one attempt at its target and learns from it.

        Returns the notes played and the rewards, shape (agents, steps); rows of inactive
        agents are computed but not learned from, which keeps the work one vectorised pass.
        `listen` rewards the agents whose reward is `listen` (see rewards.py).
        """
        n_agents, n_steps = targets.shape
        width = self.q.shape[2]
        rng = self.rng
        raw = rng.bit_generator.random_raw(self.q.size // 8 + 1)  # 8 random bytes per draw
        noise = raw.view(np.uint8)[: self.q.size].reshape(self.q.shape)
        draws = rng.random((2, n_agents, n_steps))
        explore = draws[0] < self.epsilon[:, None]
        random_choice = (draws[1] * self.n_actions[:, None]).astype(np.intp)
        greedy_choice = (self.q + noise * _TIE_NOISE_SCALE).argmax(axis=2)
        choice = np.where(explore, random_choice, greedy_choice)

        # Flat indices: one gather for the notes, one gather and one scatter for the Q-values.
        cell_base, row_base = _flat_bases(n_agents, n_steps, width)
        cells = cell_base + choice
        played = self.notes.reshape(-1)[row_base + choice]
        reward = rewards(self._reward_codes, played, targets, self._reward_kinds, listen)
        q = self.q.reshape(-1)  # a view: q is contiguous
        current = q[cells]
        goal = reward
        if self._bootstraps:
            best_next = np.zeros((n_agents, n_steps))
            best_next[:, :-1] = self.q[:, 1:, :].max(axis=2)
            goal = reward + self._gamma[:, None] * best_next
        change = self._alpha[:, None] * (goal - current)
        if not active.all():
            change *= active[:, None]
        q[cells] = current + change
        # Decay stops at the floor, but an epsilon set below the floor stays where it was put.
        floor = np.minimum(self._epsilon_min, self.epsilon)
        self.epsilon = np.where(active, np.maximum(floor, self.epsilon * self._epsilon_decay), self.epsilon)
        return played, reward

    # -- internals --------------------------------------------------------------------------

    def _initial_q(self, hyper: LearningSettings, n_actions: int, width: int,
                   n_steps: int | None = None) -> np.ndarray:
        steps = self.n_steps if n_steps is None else n_steps
        q = np.full((1, steps, width), -np.inf)
        start = 1.0 if hyper.init == "optimistic" else 0.0
        q[:, :, :n_actions] = start
        return q

    def _widen(self, width: int) -> None:
        extra = width - self.q.shape[2]
        if extra > 0:
            self.q = np.pad(self.q, ((0, 0), (0, 0), (0, extra)), constant_values=-np.inf)
            self.notes = np.pad(self.notes, ((0, 0), (0, extra)), constant_values=PADDING)

    def _replace_palette(self, row: int, old: LearningSettings, new: LearningSettings) -> None:
        actions = new.actions
        self._widen(len(actions))
        width = self.q.shape[2]
        q = self._initial_q(new, len(actions), width)[0]
        if new.init == old.init:
            old_index = {note: i for i, note in enumerate(old.actions)}
            for i, note in enumerate(actions):
                if note in old_index:
                    q[:, i] = self.q[row, :, old_index[note]]
        self.q[row] = q
        self.notes[row] = PADDING
        self.notes[row, : len(actions)] = actions
        self.n_actions[row] = len(actions)

    def _refresh_parameters(self) -> None:
        """Per-agent hyperparameters as arrays, so that learning stays one vectorised pass."""
        def column(name: str) -> np.ndarray:
            return np.array([getattr(h, name) for h in self.hyper], dtype=np.float64)

        self._alpha = column("alpha")
        self._gamma = column("gamma")
        self._bootstraps = bool(np.any(self._gamma))
        self._epsilon_decay = column("epsilon_decay")
        self._epsilon_min = column("epsilon_min")
        self._reward_codes = np.array([REWARD_CODES[h.reward] for h in self.hyper], dtype=np.int64)
        self._reward_kinds = np.unique(self._reward_codes)


@functools.lru_cache(maxsize=16)
def _flat_bases(n_agents: int, n_steps: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Offsets of each (agent, step) cell in the flattened Q-values, and of each agent's notes."""
    cells = np.arange(n_agents * n_steps).reshape(n_agents, n_steps) * width
    return cells, np.arange(n_agents)[:, None] * width

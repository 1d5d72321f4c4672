"""One Q-table for a population of agents: per agent, per step, a value for each of its options.

Options are whatever an agent chooses among at a step (the notes of its palette, or the lengths
of its rhythm palette), one row of `options` per agent; agents with fewer options are padded with
slots that can never be chosen (-inf values). Knows nothing of what the options mean.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

PADDING = -2  # the value of an option slot an agent does not have; never equals a target
# Ties between equal Q-values are broken at random on every attempt: an untrained agent then
# searches its options without repeating itself, and one whose every option scored the same
# keeps trying them all. Random bytes, scaled far below any real gap, are the cheapest noise.
_TIE_NOISE_SCALE = 1e-12
# A prior over the options, shape (agents, steps, width) each: a bias added to the values when
# choosing greedily, and weights to explore in proportion to (0 for slots an agent does not have).
Prior = tuple[np.ndarray, np.ndarray]


class Table:
    def __init__(self, n_steps: int) -> None:
        self.n_steps = n_steps
        self.q = np.zeros((0, n_steps, 1))
        self.options = np.full((0, 1), PADDING, dtype=np.int64)
        self.counts = np.zeros(0, dtype=np.int64)  # options per agent

    # -- population -------------------------------------------------------------------------

    def add(self, options: Sequence[int], start: float) -> None:
        width = max(self.q.shape[2], len(options))
        self._widen(width)
        row = np.full((1, width), PADDING, dtype=np.int64)
        row[0, : len(options)] = options
        self.options = np.concatenate([self.options, row])
        self.q = np.concatenate([self.q, _initial(self.n_steps, len(options), width, start)])
        self.counts = np.append(self.counts, len(options))

    def remove(self, row: int) -> None:
        for name in ("q", "options", "counts"):
            setattr(self, name, np.delete(getattr(self, name), row, axis=0))

    def replace(self, row: int, options: Sequence[int], start: float, keep: bool) -> None:
        """New options for an agent; `keep`: what it learned of the options it keeps stays."""
        self._widen(len(options))
        width = self.q.shape[2]
        q = _initial(self.n_steps, len(options), width, start)[0]
        if keep:
            old_index = {int(option): i for i, option in enumerate(self.options[row, : self.counts[row]])}
            for i, option in enumerate(options):
                if option in old_index:
                    q[:, i] = self.q[row, :, old_index[option]]
        self.q[row] = q
        self.options[row] = PADDING
        self.options[row, : len(options)] = options
        self.counts[row] = len(options)

    def forget(self, row: int, start: float) -> None:
        self.q[row] = _initial(self.n_steps, int(self.counts[row]), self.q.shape[2], start)[0]

    def resize_steps(self, n_steps: int, starts: Sequence[float]) -> None:
        """A new melody length: keep the steps that still exist, start new ones fresh."""
        keep = min(n_steps, self.n_steps)
        width = self.q.shape[2]
        q = np.concatenate([_initial(n_steps, int(count), width, start) for count, start in zip(
            self.counts, starts, strict=True)] or [np.zeros((0, n_steps, width))])
        q[:, :keep] = self.q[:, :keep]
        self.q, self.n_steps = q, n_steps

    # -- learning ---------------------------------------------------------------------------

    def greedy(self) -> np.ndarray:
        """Each agent's best option per step, shape (agents, steps); ties go low."""
        return np.take_along_axis(self.options, np.argmax(self.q, axis=2), axis=1)

    def greedy_with(self, bias: np.ndarray) -> np.ndarray:
        """Each agent's best option per step with `bias` (agents, steps, width) added to its
        values (a prior); ties go low."""
        return np.take_along_axis(self.options, np.argmax(self.q + bias, axis=2), axis=1)

    def choose(self, rng: np.random.Generator, epsilon: np.ndarray, prior: Prior | None = None) -> np.ndarray:
        """Epsilon-greedy choices (slot indices), shape (agents, steps): random ties, random
        exploration within each agent's own options (in proportion to a prior's weights, with
        its bias added to the values, when one is given)."""
        n_agents, n_steps, _ = self.q.shape
        raw = rng.bit_generator.random_raw(self.q.size // 8 + 1)  # 8 random bytes per draw
        noise = raw.view(np.uint8)[: self.q.size].reshape(self.q.shape)
        draws = rng.random((2, n_agents, n_steps))
        explore = draws[0] < epsilon[:, None]
        return self._choice(explore, draws[1], noise, prior)

    def _choice(self, explore: np.ndarray, uniform: np.ndarray, noise: np.ndarray,
                prior: Prior | None = None) -> np.ndarray:
        if prior is None:
            random_choice = (uniform * self.counts[:, None]).astype(np.intp)
            greedy_choice = (self.q + noise * _TIE_NOISE_SCALE).argmax(axis=2)
            return np.where(explore, random_choice, greedy_choice)
        bias, weights = prior
        cumulative = np.cumsum(weights, axis=2)
        cumulative /= cumulative[:, :, -1:]
        drawn = (cumulative < uniform[:, :, None]).sum(axis=2)
        random_choice = np.minimum(drawn, self.counts[:, None] - 1)  # a float's last ulp
        greedy_choice = (self.q + bias + noise * _TIE_NOISE_SCALE).argmax(axis=2)
        return np.where(explore, random_choice, greedy_choice)

    def chosen(self, choice: np.ndarray) -> np.ndarray:
        """The options at those slots."""
        n_agents, n_steps = choice.shape
        _, row_base = _flat_bases(n_agents, n_steps, self.q.shape[2])
        return self.options.reshape(-1)[row_base + choice]

    def learn(self, choice: np.ndarray, reward: np.ndarray, active: np.ndarray, alpha: np.ndarray,
              gamma: np.ndarray | None) -> None:
        """One Q-learning update of the chosen cells; `gamma` None: no bootstrapping (gamma 0)."""
        n_agents, n_steps = choice.shape
        cell_base, _ = _flat_bases(n_agents, n_steps, self.q.shape[2])
        cells = cell_base + choice
        q = self.q.reshape(-1)  # a view: q is contiguous
        current = q[cells]
        goal = reward
        if gamma is not None:
            best_next = np.zeros((n_agents, n_steps))
            best_next[:, :-1] = self.q[:, 1:, :].max(axis=2)
            goal = reward + gamma[:, None] * best_next
        change = alpha[:, None] * (goal - current)
        if not active.all():
            change *= active[:, None]
        q[cells] = current + change

    def _widen(self, width: int) -> None:
        extra = width - self.q.shape[2]
        if extra > 0:
            self.q = np.pad(self.q, ((0, 0), (0, 0), (0, extra)), constant_values=-np.inf)
            self.options = np.pad(self.options, ((0, 0), (0, extra)), constant_values=PADDING)


def choose_both(rng: np.random.Generator, epsilon: np.ndarray, first: Table,
                second: Table, first_prior: Prior | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Choices in two tables at once (factored actions), with one set of random draws: a step
    explored is explored in both. Cheaper than two `choose` calls: learning speed with rhythm.
    `first_prior`: the first table's prior (see `Table.choose`)."""
    n_agents, n_steps, _ = first.q.shape
    raw = rng.bit_generator.random_raw((first.q.size + second.q.size) // 8 + 1)
    noise = raw.view(np.uint8)
    draws = rng.random((3, n_agents, n_steps))
    explore = draws[0] < epsilon[:, None]
    return (first._choice(explore, draws[1], noise[: first.q.size].reshape(first.q.shape), first_prior),
            second._choice(explore, draws[2], noise[first.q.size: first.q.size + second.q.size].reshape(
                second.q.shape)))


def _initial(n_steps: int, count: int, width: int, start: float) -> np.ndarray:
    q = np.full((1, n_steps, width), -np.inf)
    q[:, :, :count] = start
    return q


@functools.lru_cache(maxsize=16)
def _flat_bases(n_agents: int, n_steps: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Offsets of each (agent, step) cell in the flattened Q-values, and of each agent's options."""
    cells = np.arange(n_agents * n_steps).reshape(n_agents, n_steps) * width
    return cells, np.arange(n_agents)[:, None] * width

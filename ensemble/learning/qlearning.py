"""Tabular Q-learning for many agents at once, on stacked numpy arrays.

State = step position in the phrase. At each step an agent chooses a note of its palette (or
rest) and, with rhythm, a length of its rhythm palette: factored actions, one Q-table for notes
and one for lengths, each learning from its part of the reward (the note's pitch, the step's
timing). bench/rhythm_efficiency.py chose this over one action per (note, length) pair: joint
actions took 2.6x the attempts of pitch alone to copy a seed with three lengths, factored 1.05x.
Without rhythm the length table is never consulted and no random draw is made for it, so every
draw and every value is what pitch alone gives. Knows nothing of time or sound.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ensemble.learning.priors import EXPLORE_FLOOR, NONE, PRIORS, scores, tonic_triad
from ensemble.learning.rewards import (
    LISTEN,
    REWARD_CODES,
    Listen,
    ListenTiming,
    is_graded,
    joint,
    pitch_rewards,
    timing_rewards,
)
from ensemble.learning.settings import LearningSettings
from ensemble.learning.table import PADDING, Prior, Table, choose_both
from ensemble.melody import REST
from ensemble.rhythm import STEP

__all__ = ["PADDING", "Played", "QBank"]


class Played(NamedTuple):
    """One attempt of every agent: notes and rewards, shape (agents, steps); lengths in ticks
    (STEP resolved to the step) when anything in play has lengths, else None."""

    notes: np.ndarray
    reward: np.ndarray
    lengths: np.ndarray | None


class QBank:
    """The Q-tables and learning state of a population of agents, one row each."""

    def __init__(self, n_steps: int, rng: np.random.Generator) -> None:
        self.rng = rng
        self.pitch = Table(n_steps)  # over notes
        self.timing = Table(n_steps)  # over lengths (ticks; STEP alone without a rhythm palette)
        self.epsilon = np.zeros(0)
        self.hyper: list[LearningSettings] = []
        self._refresh_parameters()

    def __len__(self) -> int:
        return len(self.hyper)

    @property
    def n_steps(self) -> int:
        return self.pitch.n_steps

    @property
    def q(self) -> np.ndarray:
        """The notes' Q-values, shape (agents, steps, options)."""
        return self.pitch.q

    @property
    def notes(self) -> np.ndarray:
        return self.pitch.options

    @property
    def n_actions(self) -> np.ndarray:
        return self.pitch.counts

    # -- population -------------------------------------------------------------------------

    def add(self, hyper: LearningSettings) -> int:
        """Add an agent with fresh Q-values; returns its row."""
        self.pitch.add(hyper.actions, _start(hyper))
        self.timing.add(hyper.lengths, _start(hyper))
        self.epsilon = np.append(self.epsilon, hyper.epsilon)
        self.hyper.append(hyper)
        self._refresh_parameters()
        return len(self.hyper) - 1

    def remove(self, row: int) -> None:
        self.pitch.remove(row)
        self.timing.remove(row)
        self.epsilon = np.delete(self.epsilon, row)
        del self.hyper[row]
        self._refresh_parameters()

    def configure(self, row: int, hyper: LearningSettings) -> None:
        """Change an agent's hyperparameters, keeping what it learned of notes (and lengths) it
        still has."""
        old = self.hyper[row]
        if hyper.epsilon != old.epsilon:
            self.epsilon[row] = hyper.epsilon
        keep = hyper.init == old.init
        if hyper.actions != old.actions or not keep:
            self.pitch.replace(row, hyper.actions, _start(hyper), keep)
        if hyper.lengths != old.lengths or not keep:
            self.timing.replace(row, hyper.lengths, _start(hyper), keep)
        self.hyper[row] = hyper
        self._refresh_parameters()

    def forget(self, row: int) -> None:
        hyper = self.hyper[row]
        self.pitch.forget(row, _start(hyper))
        self.timing.forget(row, _start(hyper))
        self.epsilon[row] = hyper.epsilon

    def resize_steps(self, n_steps: int) -> None:
        """A new melody length: keep the steps that still exist, start new ones fresh."""
        starts = [_start(hyper) for hyper in self.hyper]
        self.pitch.resize_steps(n_steps, starts)
        self.timing.resize_steps(n_steps, starts)

    # -- learning ---------------------------------------------------------------------------

    def greedy(self) -> np.ndarray:
        """Each agent's current best melody as notes, shape (agents, steps); ties go low. With
        a prior, its bias is in the values (see priors.py)."""
        prior = self._prior()
        return self.pitch.greedy() if prior is None else self.pitch.greedy_with(prior[0])

    def greedy_lengths(self, step: int) -> np.ndarray:
        """The lengths (ticks) of each agent's best melody, a STEP being `step` ticks."""
        lengths = self.timing.greedy()
        return np.where(lengths == STEP, step, lengths)

    @property
    def rhythmic(self) -> bool:
        """Whether any agent has lengths of its own to choose from (not only steps)."""
        return self._rhythmic

    def attempt(self, targets: np.ndarray, active: np.ndarray, listen: Listen | None = None,
                target_lengths: np.ndarray | None = None, step: int = STEP,
                listen_timing: ListenTiming | None = None) -> Played:
        """Every active agent plays one attempt at its target and learns from it.

        Returns the notes played, the rewards and (with rhythm) the lengths, shape (agents,
        steps); rows of inactive agents are computed but not learned from, which keeps the work
        one vectorised pass. `listen` rewards the agents whose reward is `listen` (see
        rewards.py). `target_lengths` (ticks), when the targets have lengths; `step`: the ticks
        of a STEP, to compare the lengths of agents that play steps with them; `listen_timing`
        hears the timing of listening agents (else it is scored as `near` scores it).
        """
        rhythmic = target_lengths is not None or self._rhythmic  # timing is part of every reward
        prior = self._prior()
        if rhythmic:
            note_choice, length_choice = choose_both(self.rng, self.epsilon, self.pitch, self.timing, prior)
        else:
            note_choice = self.pitch.choose(self.rng, self.epsilon, prior)
        played = self.pitch.chosen(note_choice)
        reward = pitch_rewards(self._reward_codes, played, targets, self._reward_kinds, listen)
        gamma = self._gamma if self._bootstraps else None
        lengths = None
        if rhythmic:
            lengths = self.timing.chosen(length_choice)
            if self._plays_steps:  # an agent without a rhythm palette: its STEP is `step` ticks
                lengths = np.where(lengths == STEP, step, lengths)
            steps = np.full(targets.shape, step, dtype=np.int64)
            wanted = steps if target_lengths is None else target_lengths
            timing = timing_rewards(self._graded, lengths, wanted)
            listening = np.flatnonzero(self._reward_codes == LISTEN)
            if listen_timing is not None and len(listening):
                timing[listening] = listen_timing(listening, played[listening], lengths[listening],
                                                  targets[listening], wanted[listening])
            self.timing.learn(length_choice, timing, active, self._alpha, gamma)
            self.pitch.learn(note_choice, reward, active, self._alpha, gamma)
            reward = joint(reward, timing, self._graded)  # what the attempt scored, as heard
        else:
            self.pitch.learn(note_choice, reward, active, self._alpha, gamma)
        # Decay stops at the floor, but an epsilon set below the floor stays where it was put.
        floor = np.minimum(self._epsilon_min, self.epsilon)
        self.epsilon = np.where(active, np.maximum(floor, self.epsilon * self._epsilon_decay), self.epsilon)
        return Played(played, reward, lengths)

    # -- internals --------------------------------------------------------------------------

    def _prior(self) -> Prior | None:
        """The agents' priors over their notes now (None when no agent has one): the note
        before each step is that of the agent's plain greedy melody (its values alone)."""
        if not self._has_prior:
            return None
        plain = self.pitch.greedy()
        before = np.full_like(plain, REST)
        before[:, 1:] = plain[:, :-1]
        score = scores(self._prior_kinds, self.pitch.options, before, self._triads)
        weights = (score + EXPLORE_FLOOR) * (self.pitch.options != PADDING)[:, None, :]
        return self._prior_strength[:, None, None] * score, weights

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
        self._graded = is_graded(self._reward_codes)
        self._rhythmic = bool(np.any(self.timing.options > STEP))
        self._plays_steps = bool(np.any(self.timing.options == STEP))
        self._prior_kinds = np.array([PRIORS.index(h.prior) for h in self.hyper], dtype=np.int64)
        self._prior_strength = column("prior_strength")
        self._has_prior = bool(np.any(self._prior_kinds != NONE))
        # Options change only here (add, configure, remove): so does each option's place in a triad.
        self._triads = np.zeros(self.pitch.options.shape, dtype=bool)
        for row, hyper in enumerate(self.hyper):
            if hyper.prior != "none":
                triad = tonic_triad(hyper.palette, hyper.actions)
                self._triads[row, : len(triad)] = triad


def _start(hyper: LearningSettings) -> float:
    """Initial Q-values: optimistic ones are the best reward."""
    return 1.0 if hyper.init == "optimistic" else 0.0

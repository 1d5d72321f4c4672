"""Reward functions: how close a played step was to its target step. Vectorised, no state.

The symbolic rewards compare notes. `listen` compares sounds, which only a caller that knows
the agents' voices can render: it is passed in as a `Listen` function.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ensemble.learning.settings import REWARDS
from ensemble.melody import REST

REWARD_CODES = {name: code for code, name in enumerate(REWARDS)}
NEAR_SPAN = 6.0  # semitones at which the `near` reward falls to 0; it bottoms out at -1.
LISTEN = REWARD_CODES["listen"]

# (rows, played, target) -> rewards in [-1, 1] for those rows of the population.
Listen = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def rewards(codes: np.ndarray, played: np.ndarray, target: np.ndarray,
            kinds: np.ndarray | None = None, listen: Listen | None = None) -> np.ndarray:
    """Per-step rewards in [-1, 1] for agents (rows) with reward kinds `codes` (one per row).

    exact: +1 hit, -1 miss. near: 1 at the target, falling linearly with semitone distance.
    pitchclass: +1 for the right note in any octave. A rest only matches a rest.
    listen: whatever `listen` hears (required when a row listens).
    `kinds`, the distinct codes, may be passed by a caller that already knows them.
    """
    kinds = np.unique(codes) if kinds is None else kinds
    if len(kinds) == 1 and kinds[0] != LISTEN:  # the usual case: one kind, no masking needed
        return _REWARDS[int(kinds[0])](played, target)
    result = np.empty(played.shape)
    for kind in kinds:
        rows = codes == kind
        if kind == LISTEN:
            if listen is None:
                raise ValueError("a listening agent needs a `listen` function to be rewarded")
            result[rows] = listen(np.flatnonzero(rows), played[rows], target[rows])
        else:
            result[rows] = _REWARDS[int(kind)](played[rows], target[rows])
    return result


def exact(played: np.ndarray, target: np.ndarray) -> np.ndarray:
    return np.where(played == target, 1.0, -1.0)


def near(played: np.ndarray, target: np.ndarray) -> np.ndarray:
    graded = np.maximum(-1.0, 1.0 - np.abs(played - target) / NEAR_SPAN)
    return np.where((played == REST) | (target == REST), exact(played, target), graded)


def pitchclass(played: np.ndarray, target: np.ndarray) -> np.ndarray:
    same_class = np.where((played - target) % 12 == 0, 1.0, -1.0)
    return np.where((played == REST) | (target == REST), exact(played, target), same_class)


_REWARDS = {REWARD_CODES["exact"]: exact, REWARD_CODES["near"]: near, REWARD_CODES["pitchclass"]: pitchclass}

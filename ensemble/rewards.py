"""Reward functions: how close a played step was to its target step. Vectorised, no state."""

from __future__ import annotations

import numpy as np

from ensemble.hyperparams import REWARDS
from ensemble.melody import REST

REWARD_CODES = {name: code for code, name in enumerate(REWARDS)}
NEAR_SPAN = 6.0  # semitones at which the `near` reward falls to 0; it bottoms out at -1.


def rewards(codes: np.ndarray, played: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per-step rewards in [-1, 1] for agents (rows) with reward kinds `codes` (one per row).

    exact: +1 hit, -1 miss. near: 1 at the target, falling linearly with semitone distance.
    pitchclass: +1 for the right note in any octave. A rest only matches a rest.
    """
    same = played == target
    either_rest = (played == REST) | (target == REST)
    distance = np.abs(played - target).astype(np.float64)
    exact = np.where(same, 1.0, -1.0)
    near = np.where(either_rest, exact, np.maximum(-1.0, 1.0 - distance / NEAR_SPAN))
    pitchclass = np.where(either_rest, exact, np.where(distance % 12 == 0, 1.0, -1.0))
    kind = codes[:, None]
    return np.where(kind == REWARD_CODES["exact"], exact,
                    np.where(kind == REWARD_CODES["near"], near, pitchclass))

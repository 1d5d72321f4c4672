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
NEAR_TICKS = 16.0  # ticks (a beat) of onset and length error at which timing scores 0
LISTEN = REWARD_CODES["listen"]
GRADED = (REWARD_CODES["near"], LISTEN)  # rewards that grade timing too; the others want it exact

# (rows, played, target) -> rewards in [-1, 1] for those rows of the population.
Listen = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
# (played lengths, target lengths) in ticks, shape (agents, steps)
Timing = tuple[np.ndarray, np.ndarray]
# (rows, played notes, played lengths, target notes, target lengths) -> the timing part of the
# rewards, in [-1, 1], of those rows' listening agents: heard, not counted (see Ear.timing).
ListenTiming = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def rewards(codes: np.ndarray, played: np.ndarray, target: np.ndarray, kinds: np.ndarray | None = None,
            listen: Listen | None = None, timing: Timing | None = None) -> np.ndarray:
    """Per-step rewards in [-1, 1] for agents (rows) with reward kinds `codes` (one per row).

    exact: +1 hit, -1 miss. near: 1 at the target, falling linearly with semitone distance.
    pitchclass: +1 for the right note in any octave. A rest only matches a rest.
    listen: whatever `listen` hears (required when a row listens).
    With `timing` (lengths played and wanted) a step is exact only when its length is right
    too; `near` and `listen` average their pitch score with how close the step's onset and
    length came (`timing_score`).
    `kinds`, the distinct codes, may be passed by a caller that already knows them.
    """
    pitch = pitch_rewards(codes, played, target, kinds, listen)
    if timing is None:
        return pitch
    graded = is_graded(codes)
    return joint(pitch, timing_rewards(graded, *timing), graded)


def is_graded(codes: np.ndarray) -> np.ndarray:
    """Per row: whether its reward grades timing (near, listen) or wants it exact."""
    return np.isin(codes, GRADED)


def timing_rewards(graded: np.ndarray, played: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The timing part of each step's reward: +1 for the right length, else -1; for graded rows,
    `timing_score`."""
    exact_length = np.where(played == target, 1.0, -1.0)
    if not graded.any():
        return exact_length
    return np.where(graded[:, None], timing_score(played, target), exact_length)


def joint(pitch: np.ndarray, timing: np.ndarray, graded: np.ndarray) -> np.ndarray:
    """A step's whole reward: graded rows average pitch and timing; the others count the step
    right only when both are."""
    both = np.where(timing > 0, pitch, -1.0)
    if not graded.any():
        return both
    return np.where(graded[:, None], (pitch + timing) / 2, both)


def timing_score(played: np.ndarray, target: np.ndarray) -> np.ndarray:
    """1 when a step starts and lasts as wanted, falling with the ticks it is off (its onset
    plus its length) to 0 at NEAR_TICKS, and to -1 at twice that."""
    onset_played = np.cumsum(played, axis=1) - played
    onset_target = np.cumsum(target, axis=1) - target
    off = np.abs(onset_played - onset_target) + np.abs(played - target)
    return np.maximum(-1.0, 1.0 - off / NEAR_TICKS)


def pitch_rewards(codes: np.ndarray, played: np.ndarray, target: np.ndarray,
                  kinds: np.ndarray | None = None, listen: Listen | None = None) -> np.ndarray:
    """The pitch part of each step's reward (see `rewards`)."""
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

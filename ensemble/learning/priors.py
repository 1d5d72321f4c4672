"""What an agent expects a melody to be, before it hears one: its prior.

Singers copying melodies drift toward small intervals, few pitches and repeated notes
(Anglada-Tort et al. 2023); learners that bring a prior to imperfect copies hand it on (Griffiths
& Kalish 2007). An agent's prior scores each note it could play at a step in [0, 1], given the
note before it in its own melody (its greedy melody's previous step):

- `stepwise`: a small interval (a repeat, or a step of 1 or 2 semitones) scores 1, a leap less
  the wider it is (1 - (d - 2) / 5: a minor third 0.8, a fourth 0.4, a fifth or more 0);
- `repeat`: 1 - d / 12 (the same note 1, an octave 0);
- `scale`: the tonic triad of its palette (degrees 1, 3 and 5 of the scale, from its root)
  scores 1, the other notes 0.5, whatever came before;
- `none`: no prior (0 everywhere): the agent as it always was.

A rest scores 0.5, and so does every note after a rest, or at the first step, for the priors
that look back. The Q-learner adds `strength` times the score to its values when it chooses
(qlearning.py): unexplored notes, and notes a near miss away, give way to the expected ones; and
it explores in proportion to the scores.
"""

from __future__ import annotations

import numpy as np

from ensemble.melody import REST, SCALES, Palette

PRIORS = ("none", "stepwise", "repeat", "scale")
NONE, STEPWISE, REPEAT, SCALE = range(len(PRIORS))
NEUTRAL = 0.5  # a rest's score, and every note's where nothing came before
EXPLORE_FLOOR = 0.05  # an option's weight in exploration beyond its score: every option stays possible
TRIAD = (0, 2, 4)  # scale degrees 1, 3 and 5, as indices into the scale


def scores(kinds: np.ndarray, options: np.ndarray, before: np.ndarray, triads: np.ndarray) -> np.ndarray:
    """Each agent's prior score of each of its options at each step, shape (agents, steps,
    options): `kinds` (agents,) prior codes; `options` (agents, width) notes (REST, or padding
    below 0); `before` (agents, steps) the note before each step (REST where there is none);
    `triads` (agents, width) whether each option is a note of its palette's tonic triad."""
    distance = np.abs(options[:, None, :] - before[:, :, None]).astype(np.float64)
    stepwise = np.clip(1 - (distance - 2) / 5, 0, 1)  # up to a whole tone 1, a fifth or more 0
    repeat = np.clip(1 - distance / 12, 0, 1)
    looking_back = np.where((kinds == STEPWISE)[:, None, None], stepwise, repeat)
    unknown = (before == REST)[:, :, None] | (options < 0)[:, None, :]
    looking_back = np.where(unknown, NEUTRAL, looking_back)
    scale = np.where(triads, 1.0, NEUTRAL)[:, None, :]  # whatever came before: broadcast over the steps
    score = np.where((kinds == SCALE)[:, None, None], scale, looking_back)
    score = np.where((options == REST)[:, None, :], NEUTRAL, score)
    return np.where((kinds == NONE)[:, None, None], 0.0, score)


def tonic_triad(palette: Palette, options: tuple[int, ...]) -> tuple[bool, ...]:
    """Whether each option is a note of the palette's tonic triad (root: LOW's pitch class)."""
    degrees = SCALES[palette.scale]
    triad = {degrees[index] for index in TRIAD if index < len(degrees)}
    return tuple(note != REST and (note - palette.low) % 12 in triad for note in options)

"""Measures of melodies as they pass along a chain, after the iterated-learning studies (copy
fidelity, drift, pitch sets, interval sizes and their entropy, arch-shaped contours, recovery).

A melody is a tuple of MIDI notes with REST (-1) for a silent step (ensemble.melody); where
rhythm is in play each step also has a length in ticks (ensemble.rhythm). Every function is
pure and says what it gives for an empty melody, one of rests only and one with a single note.
A measure that has nothing to measure (no interval between two notes) is None, never a number
made up to fill the gap.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence
from itertools import accumulate, pairwise

from ensemble.melody import REST

LEVEL_OVER = 4  # attempts before a perturbation whose mean fidelity is the level to recover
_CLOSE = 1e-9  # a fidelity this close to the level has reached it (sums of floats round)


# -- how far apart two sequences are ---------------------------------------------------------


def edit_distance(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """The Levenshtein distance: the fewest insertions, deletions and substitutions of one
    element that turn `a` into `b` (each costs 1). 0 for equal sequences; len(b) when `a` is
    empty and len(a) when `b` is.

    Bit-parallel (Myers 1999, for whole sequences as Hyyrö 2001 explains it): the column of the
    distance table over `a` is held as two bit sets, +1 and -1 steps down the column, and each
    element of `b` moves it on with a few integer operations, so two melodies of 64 steps cost
    64 passes of big-integer arithmetic rather than 4096 cells of Python.
    """
    if len(a) < len(b):
        a, b = b, a  # the longer along the bits: fewer passes
    if not b:
        return len(a)
    steps = len(a)
    full, top = (1 << steps) - 1, 1 << (steps - 1)
    matches: dict[Hashable, int] = {}  # element -> the bits of the places where `a` has it
    for place, element in enumerate(a):
        matches[element] = matches.get(element, 0) | (1 << place)
    up, down = full, 0  # the first column, 0..len(a): every step +1
    distance = steps
    for element in b:
        equal = matches.get(element, 0)
        vertical = equal | down
        horizontal = (((equal & up) + up) ^ up) | equal
        rising = down | ~(horizontal | up)
        falling = up & horizontal
        if rising & top:
            distance += 1
        elif falling & top:
            distance -= 1
        rising = (rising << 1) | 1  # the top row grows by 1 a column: a whole-sequence distance
        falling <<= 1
        up = (falling | ~(vertical | rising)) & full
        down = rising & vertical
    return distance


def normalised_edit_distance(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """edit_distance(a, b) / the longer one's length, in [0, 1]: 0 when they are equal, 1 when
    no element can be kept in place (e.g. as long and every step different; one of them
    empty and the other not). Two empty sequences: 0.0."""
    longer = max(len(a), len(b))
    return edit_distance(a, b) / longer if longer else 0.0


def copy_fidelity(played: Sequence[int], target: Sequence[int]) -> float:
    """How faithfully `played` copies `target`: 1 - normalised_edit_distance, in [0, 1]; 1.0
    for an exact copy (two empty melodies too), 0.0 when not a step could be kept."""
    return 1.0 - normalised_edit_distance(played, target)


def drift(played: tuple[int, ...], seed: tuple[int, ...]) -> float:
    """How far `played` has drifted from the seed: their normalised edit distance, in [0, 1]
    (0.0: the seed exactly). Cheap enough for every agent every phrase (about 0.1 ms for two
    melodies of 64 steps)."""
    if played == seed:
        return 0.0
    return normalised_edit_distance(played, seed)


def onsets(notes: Sequence[int], lengths: Sequence[int]) -> tuple[int, ...]:
    """The tick, from the phrase's start, at which each sounding note begins: a rest starts
    nothing but takes its time. Empty for an empty melody or one of rests only."""
    starts = accumulate(lengths, initial=0)  # one more than the notes: where the phrase ends
    return tuple(start for start, note in zip(starts, notes, strict=False) if note != REST)


def onset_distance(notes: Sequence[int], lengths: Sequence[int], other_notes: Sequence[int],
                   other_lengths: Sequence[int]) -> float:
    """The normalised edit distance between two melodies' onsets (see `onsets`), in [0, 1]:
    their timing alone, whatever the pitches. 0.0 when both start their notes at the same ticks
    (two melodies without a sounding note too)."""
    return normalised_edit_distance(onsets(notes, lengths), onsets(other_notes, other_lengths))


# -- the shape of one melody -----------------------------------------------------------------


def sounding(melody: Sequence[int]) -> tuple[int, ...]:
    """The notes, rests left out."""
    return tuple(note for note in melody if note != REST)


def pitch_set_size(melody: Sequence[int]) -> int:
    """How many different pitches it sounds (MIDI numbers, so C4 and C5 are two; rests are not
    a pitch). 0 for an empty melody or one of rests only, 1 for a single note."""
    return len(set(sounding(melody)))


def intervals(melody: Sequence[int]) -> tuple[int, ...]:
    """Signed semitones from each sounding note to the next. Rests are skipped: a rest between
    two notes does not break the line, the leap across it is counted as one interval. Empty
    when fewer than two notes sound."""
    return tuple(later - earlier for earlier, later in pairwise(sounding(melody)))


def mean_absolute_interval(melody: Sequence[int]) -> float | None:
    """The mean size in semitones of the intervals (see `intervals`: rests skipped), whatever
    their direction. None when fewer than two notes sound (an empty melody, rests only, a
    single note); 0.0 for a repeated note."""
    steps = intervals(melody)
    return sum(abs(step) for step in steps) / len(steps) if steps else None


def interval_entropy(melody: Sequence[int]) -> float | None:
    """The Shannon entropy, in bits, of the melody's interval values (signed semitones, see
    `intervals`: +2 and -2 are two values): -sum(p * log2 p) over the values, p being each
    value's share of the intervals. 0.0 when every interval is the same (one interval too);
    log2(k) for k values equally often; None when fewer than two notes sound."""
    steps = intervals(melody)
    if not steps:
        return None
    counts = Counter(steps).values()
    return max(0.0, -sum(count / len(steps) * math.log2(count / len(steps)) for count in counts))


def arch_score(melody: Sequence[int], lengths: Sequence[int] | None = None) -> float | None:
    """How arch-shaped the contour is: the Pearson correlation, over the sounding notes, of
    their pitch with an arch laid over the phrase, in [-1, 1]. 1: pitch rises to the middle of
    the phrase and falls after it as the arch does; -1: a valley; near 0: neither (a line that
    only rises, say).

    The arch at a note is 1 - |2x - 1|, x being where the note's middle falls in the phrase, from
    0 (its start) to 1 (its end): step i of n at (i + 0.5) / n, or with `lengths` (ticks) at
    (onset + length / 2) / the phrase's ticks. Rests count for their time, not as pitches.
    None when fewer than two notes sound; 0.0 when the pitch does not move, or when the notes
    sit where the arch is equally high (two notes placed symmetrically): no contour to speak of.
    """
    steps = len(melody)
    total = 0 if lengths is None else sum(lengths)
    if lengths is None or total <= 0:
        middles = [(place + 0.5) / steps for place in range(steps)]
    else:
        middles = [(start + length / 2) / total
                   for start, length in zip(accumulate(lengths, initial=0), lengths, strict=False)]
    points = [(note, 1.0 - abs(2.0 * middle - 1.0))
              for note, middle in zip(melody, middles, strict=True) if note != REST]
    if len(points) < 2:
        return None
    return _correlation([float(pitch) for pitch, _ in points], [arch for _, arch in points])


def _correlation(xs: list[float], ys: list[float]) -> float:
    """Pearson's r; 0.0 when either does not vary."""
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    dx = [x - mean_x for x in xs]
    dy = [y - mean_y for y in ys]
    spread = math.sqrt(sum(d * d for d in dx) * sum(d * d for d in dy))
    if spread < _CLOSE:
        return 0.0
    return max(-1.0, min(1.0, sum(a * b for a, b in zip(dx, dy, strict=True)) / spread))


# -- over time -------------------------------------------------------------------------------


def recovery(fidelities: Sequence[float], perturbed_at: int, level_over: int = LEVEL_OVER) -> int | None:
    """How long an agent took to copy as faithfully as it did before a perturbation (a re-seed,
    a transposition).

    `fidelities` are its copy fidelities (or any score where higher is better, such as
    1 - drift), attempt by attempt; `perturbed_at` indexes its first attempt after the
    perturbation. The level to return to is the mean of the (up to) `level_over` attempts just
    before that one. Returns how many attempts from `perturbed_at` on fell short of the level
    before the first that reached it: 0 when the first attempt after the perturbation already
    did (it was not thrown off). None when there is no attempt before the perturbation (no level
    to return to), or none from it on reaches the level.
    """
    if not 0 < perturbed_at <= len(fidelities) or level_over < 1:
        return None
    before = fidelities[max(0, perturbed_at - level_over):perturbed_at]
    level = sum(before) / len(before)
    for waited, fidelity in enumerate(fidelities[perturbed_at:]):
        if fidelity >= level - _CLOSE:
            return waited
    return None

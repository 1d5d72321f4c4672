"""The measures on hand-made melodies whose values are known, their edge cases, and the edit
distance against the textbook table it is a fast form of."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ensemble.measures import (
    arch_score,
    copy_fidelity,
    drift,
    edit_distance,
    interval_entropy,
    intervals,
    mean_absolute_interval,
    normalised_edit_distance,
    onset_distance,
    onsets,
    pitch_set_size,
    recovery,
)
from ensemble.melody import REST

_ = REST
C, D, E, F, G, A = 60, 62, 64, 65, 67, 69


def _table_distance(a, b):
    """Levenshtein by the whole table, as textbooks write it."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        row = [i]
        for j, y in enumerate(b, start=1):
            row.append(min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = row
    return previous[-1]


# -- edit distance -----------------------------------------------------------------------------

@pytest.mark.parametrize(("a", "b", "distance"), [
    ((C, D, E), (C, D, E), 0),
    ((C, D, E), (C, E), 1),  # one note left out
    ((C, D, E, F), (D, E, F, G), 2),  # the first dropped, one added at the end
    ((C, D, E), (E, D, C), 2),  # reversed: the ends swapped
    ((C, _, E), (C, D, E), 1),  # a rest is a step like any other
    ((), (C, D), 2),
    ((C, D, E), (), 3),
    ((), (), 0),
    ("kitten", "sitting", 3),
    (tuple(range(70)), tuple(range(1, 71)), 2),  # longer than a machine word: 70 bits
])
def test_edit_distance_of_known_pairs(a, b, distance):
    assert edit_distance(a, b) == distance == edit_distance(b, a)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.integers(-1, 5), max_size=80), st.lists(st.integers(-1, 5), max_size=80))
def test_edit_distance_is_the_table_s(a, b):
    assert edit_distance(a, b) == _table_distance(a, b)
    assert 0.0 <= normalised_edit_distance(a, b) <= 1.0


@pytest.mark.parametrize(("a", "b", "distance"), [
    ((C, D, E, F), (D, E, F, G), 0.5),
    ((C, D, E), (D, E, F), 2 / 3),
    ((C, C, C, C), (D, D, D, D), 1.0),
    ((), (C,), 1.0),
    ((), (), 0.0),
    ((C, D, E, F), (C, D, E, F), 0.0),
])
def test_normalised_edit_distance_is_over_the_longer(a, b, distance):
    assert normalised_edit_distance(a, b) == pytest.approx(distance)


def test_copy_fidelity_is_one_less_the_distance():
    assert copy_fidelity((C, D, E, F), (C, D, E, F)) == 1.0
    assert copy_fidelity((C, D, E, F), (D, E, F, G)) == 0.5
    assert copy_fidelity((C, C, C), (D, D, D)) == 0.0
    assert copy_fidelity((), ()) == 1.0
    assert copy_fidelity((_, _), (_, _)) == 1.0  # rests copied are copied


def test_drift_from_the_seed():
    seed = (C, E, G, E, C)
    assert drift(seed, seed) == 0.0
    assert drift((C, E, G, E, D), seed) == 0.2
    assert drift((D, F, A, F, D), seed) == 1.0  # transposed: every step has moved
    assert drift((C, E, G), seed) == 0.4  # a seed longer than what is played
    assert drift((), ()) == 0.0 and drift((C,), ()) == 1.0
    many = tuple(40 + k % 24 for k in range(64))
    assert drift(many, many[1:] + many[:1]) == 2 / 64  # the longest melody: one dropped, one added


# -- onsets ------------------------------------------------------------------------------------

def test_onsets_are_where_notes_begin_rests_taking_their_time():
    assert onsets((C, _, D, E), (8, 8, 16, 8)) == (0, 16, 32)
    assert onsets((_, _), (8, 8)) == ()
    assert onsets((), ()) == ()
    assert onsets((C,), (4,)) == (0,)


def test_onset_distance_sees_the_timing_not_the_pitches():
    assert onset_distance((C, D, E), (8, 8, 16), (G, A, F), (8, 8, 16)) == 0.0
    # onsets 0 8 16 against 0 16 24: 8 out, 24 in
    assert onset_distance((C, D, E), (8, 8, 16), (C, D, E), (16, 8, 8)) == pytest.approx(2 / 3)
    assert onset_distance((C, _, E), (8, 8, 8), (C, D, E), (8, 8, 8)) == pytest.approx(1 / 3)
    assert onset_distance((_,), (8,), (_, _), (4, 4)) == 0.0  # no note either side


# -- one melody's shape ------------------------------------------------------------------------

@pytest.mark.parametrize(("melody", "size"), [
    ((C, E, C, _, G), 3), ((C, C + 12), 2), ((C,), 1), ((_, _), 0), ((), 0)])
def test_pitch_set_size(melody, size):
    assert pitch_set_size(melody) == size


def test_intervals_skip_rests():
    assert intervals((C, _, E, D)) == (4, -2)
    assert intervals((C, _, _)) == () and intervals(()) == ()


@pytest.mark.parametrize(("melody", "mean"), [
    ((C, D, E, C), 8 / 3),
    ((C, _, G), 7.0),  # the leap across the rest is one interval
    ((C, C), 0.0),
    ((G, C), 7.0),  # the size, whatever the direction
    ((C,), None), ((_, C, _), None), ((_, _), None), ((), None),
])
def test_mean_absolute_interval(melody, mean):
    assert mean_absolute_interval(melody) == (None if mean is None else pytest.approx(mean))


@pytest.mark.parametrize(("melody", "bits"), [
    ((C, D, E, 66), 0.0),  # every interval +2
    ((C, D), 0.0),  # one interval
    ((C, D, C, D, C), 1.0),  # +2 and -2, as often
    ((C, 61, 63, 66, 70), 2.0),  # four values as often: log2 4
    ((C, D, E, D), -(2 / 3 * math.log2(2 / 3) + 1 / 3 * math.log2(1 / 3))),
    ((C, _, D, _, C), 1.0),  # rests skipped
    ((C,), None), ((_,), None), ((), None),
])
def test_interval_entropy(melody, bits):
    assert interval_entropy(melody) == (None if bits is None else pytest.approx(bits))


@pytest.mark.parametrize(("melody", "score"), [
    ((C, D, E, D, C), 1.0),  # the pitch follows the arch: .2 .6 1 .6 .2
    ((E, D, C, D, E), -1.0),  # a valley
    ((C, D, E, F + 1, A - 1), 0.0),  # a straight rise: neither
    ((C, _, E, _, C), 1.0),  # rests count for their time: the notes at .2, 1, .2 of the arch
    ((C, C, C), 0.0),  # the pitch does not move
    ((C, E), 0.0),  # two notes as high on the arch
    ((C,), None), ((_, C, _), None), ((_, _), None), ((), None),
])
def test_arch_score_of_steps(melody, score):
    assert arch_score(melody) == (None if score is None else pytest.approx(score, abs=1e-12))


def test_arch_score_places_notes_by_their_lengths():
    assert arch_score((C, E, C), (4, 8, 4)) == pytest.approx(1.0)
    # Two notes: as steps both sit at .25 and .75 of the phrase, equally high on the arch; with
    # lengths 4 and 12 ticks their middles are at 2/16 and 10/16, and the higher one is the later.
    assert arch_score((C, E)) == 0.0
    assert arch_score((C, E), (4, 12)) == pytest.approx(1.0)
    assert arch_score((E, C), (4, 12)) == pytest.approx(-1.0)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.just(REST), st.integers(1, 127)), max_size=64))
def test_arch_score_is_a_correlation(melody):
    score = arch_score(melody)
    assert score is None or -1.0 <= score <= 1.0


# -- recovery ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("fidelities", "at", "attempts"), [
    ([1, 1, 1, 1, 0.2, 0.5, 0.9, 1, 1], 4, 3),  # back to 1.0 at its fourth attempt after
    ([0.5, 0.5, 1, 1, 0.2, 0.8], 4, 1),  # the level is the mean of the last four: 0.75
    ([0.5, 0.5, 0.9, 0.4], 2, 0),  # the first attempt after was as faithful: not thrown off
    ([1, 1, 0.5, 0.5], 2, None),  # not back by the end
    ([0.5, 1.0], 0, None),  # nothing before: no level to return to
    ([0.5, 1.0], 2, None),  # nothing after
    ([], 0, None),
])
def test_recovery_counts_the_attempts_below_the_level(fidelities, at, attempts):
    assert recovery(fidelities, at) == attempts


def test_recovery_level_over_fewer_attempts():
    fidelities = [0.0, 0.0, 0.0, 1.0, 0.3, 0.6]
    assert recovery(fidelities, 4, level_over=1) is None  # must get back to 1.0
    assert recovery(fidelities, 4, level_over=4) == 0  # the mean 0.25 is already reached

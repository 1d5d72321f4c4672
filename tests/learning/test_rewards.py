import numpy as np
import pytest

from ensemble.learning.rewards import REWARD_CODES, rewards, timing_score
from ensemble.melody import REST


def _one(kind, played, target):
    return rewards(np.array([REWARD_CODES[kind]]), np.array([played]), np.array([target]))[0].tolist()


def test_exact_is_plus_one_or_minus_one():
    assert _one("exact", [60, 61, REST, REST], [60, 60, REST, 60]) == [1.0, -1.0, 1.0, -1.0]


def test_near_falls_with_semitone_distance():
    near = _one("near", [60, 61, 63, 66, 72, REST], [60] * 6)
    assert near[0] == 1.0 and near[0] > near[1] > near[2] > near[3]
    assert near[4] == -1.0 and near[5] == -1.0


def test_pitchclass_is_octave_blind():
    assert _one("pitchclass", [72, 48, 61, REST], [60, 60, 60, REST]) == [1.0, 1.0, -1.0, 1.0]


def test_each_row_uses_its_own_reward():
    codes = np.array([REWARD_CODES["exact"], REWARD_CODES["pitchclass"]])
    result = rewards(codes, np.array([[72], [72]]), np.array([[60], [60]]))
    assert result[:, 0].tolist() == [-1.0, 1.0]


def test_listening_rows_are_rewarded_by_the_listen_function_and_the_others_as_before():
    codes = np.array([REWARD_CODES["exact"], REWARD_CODES["listen"], REWARD_CODES["exact"]])
    played, target = np.array([[60, 62], [60, 62], [64, 64]]), np.array([[60, 60], [60, 60], [64, 60]])
    asked = []

    def listen(rows, heard, wanted):
        asked.append((rows.tolist(), heard.tolist(), wanted.tolist()))
        return np.full(heard.shape, 0.25)

    result = rewards(codes, played, target, listen=listen)
    assert asked == [([1], [[60, 62]], [[60, 60]])]
    assert result.tolist() == [[1.0, -1.0], [0.25, 0.25], [1.0, -1.0]]
    with pytest.raises(ValueError, match="listen"):
        rewards(codes[1:2], played[1:2], target[1:2])


def test_with_timing_exact_needs_the_length_right_too():
    played, target = np.array([[60, 62]]), np.array([[60, 62]])
    codes = np.array([REWARD_CODES["exact"]])
    right = rewards(codes, played, target, timing=(np.array([[8, 8]]), np.array([[8, 8]])))
    wrong = rewards(codes, played, target, timing=(np.array([[8, 16]]), np.array([[8, 8]])))
    assert right.tolist() == [[1.0, 1.0]]
    assert wrong.tolist() == [[1.0, -1.0]]


def test_near_scores_how_close_onset_and_length_came():
    target_lengths = np.array([[8, 8, 16]])
    # the first note 4 ticks long: it is 4 ticks short, and every later onset 4 ticks early
    off = timing_score(np.array([[4, 8, 16]]), target_lengths)
    assert off.tolist() == [[0.75, 0.75, 0.75]]
    assert timing_score(target_lengths, target_lengths).tolist() == [[1.0, 1.0, 1.0]]
    codes = np.array([REWARD_CODES["near"]])
    notes = np.array([[60, 62, 64]])
    graded = rewards(codes, notes, notes, timing=(np.array([[4, 8, 16]]), target_lengths))
    assert graded.tolist() == [[0.875, 0.875, 0.875]]  # the pitch's 1 and the timing's 0.75, averaged

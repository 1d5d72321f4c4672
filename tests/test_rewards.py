import numpy as np

from ensemble.melody import REST
from ensemble.rewards import REWARD_CODES, rewards


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

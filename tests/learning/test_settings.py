import pytest

from ensemble.errors import UserError
from ensemble.learning.settings import LearningSettings
from ensemble.melody import REST


def test_changes_are_parsed_and_validated():
    changed = LearningSettings().changed({"alpha": "0.9", "reward": "near", "practice": "3",
                                          "palette": "chromatic:C4-B4", "rests": "off"})
    assert (changed.alpha, changed.reward, changed.practice) == (0.9, "near", 3)
    assert changed.actions == tuple(range(60, 72))
    assert REST in LearningSettings().actions


@pytest.mark.parametrize(("key", "value", "message"), [
    ("alpha", "1.5", "alpha=1.5: allowed: a number from 0 to 1"),
    ("epsilon", "-0.1", "from 0 to 1"),
    ("gamma", "1", "from 0 to 0.99"),
    ("practice", "2.5", "a whole number from 0 to 64"),
    ("reward", "loud", "exact | near | pitchclass"),
    ("init", "random", "zero | optimistic"),
    ("palette", "major:C4", "needs a range"),
    ("wobble", "1", "unknown setting 'wobble'"),
    ("alpha", "nan", "from 0 to 1"),
])
def test_bad_values_name_the_allowed_range(key, value, message):
    with pytest.raises(UserError, match=message.replace("|", r"\|")):
        LearningSettings().changed({key: value})


def test_a_failed_change_changes_nothing():
    original = LearningSettings()
    with pytest.raises(UserError):
        original.changed({"alpha": "0.1", "epsilon": "7"})
    assert original.alpha == 0.5

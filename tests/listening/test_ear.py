"""The ear: rewards from the real Glicol engine's audio, each note rendered once."""

import numpy as np
import pytest

from ensemble.listening.ear import Ear, Timbre
from ensemble.melody import REST

pytestmark = pytest.mark.usefixtures("glicol")

SAW, SQUARE, TRI = (Timbre(voice, 2400.0, 0.25) for voice in ("saw", "square", "tri"))


@pytest.fixture(scope="module")
def ear():
    return Ear()


@pytest.mark.parametrize(("mine", "theirs"), [(SAW, SAW), (SAW, SQUARE), (TRI, SAW), (SQUARE, TRI)])
def test_the_target_note_is_the_best_sounding_choice_in_any_pair_of_voices(ear, mine, theirs):
    palette = np.arange(48, 85)
    for target in (48, 60, 67, 84):
        heard = ear.rewards(palette, mine, np.full(len(palette), target), theirs)
        assert palette[np.argmax(heard)] == target
        assert heard.max() - np.sort(heard)[-2] > 0.1  # by a clear margin
        assert heard.min() >= -1.0 and heard.max() <= 1.0 + 1e-9


def test_a_voice_against_itself_is_a_perfect_match_and_another_voice_is_not(ear):
    same = ear.rewards(np.array([60]), SAW, np.array([60]), SAW)
    other = ear.rewards(np.array([60]), SAW, np.array([60]), SQUARE)
    assert same[0] == pytest.approx(1.0)
    assert 0.5 < other[0] < 0.99


def test_rests_match_rests_and_nothing_else(ear):
    heard = ear.rewards(np.array([REST, REST, 60]), SAW, np.array([REST, 60, REST]), SQUARE)
    assert heard.tolist() == pytest.approx([1.0, -1.0, -1.0])


def test_each_note_of_a_timbre_is_rendered_once(ear):
    played = np.array([[62, 64, 62, REST], [64, 64, 65, 62]])
    target = np.array([[62, 62, 62, 62], [62, 62, 62, 62]])
    before = ear.renders
    first = ear.rewards(played, Timbre("saw", 1000.0, 0.2), target, Timbre("tri", 1000.0, 0.2))
    assert ear.renders - before == 3 + 1  # saw 62, 64, 65; tri 62
    again = ear.rewards(played, Timbre("saw", 1000.0, 0.2), target, Timbre("tri", 1000.0, 0.2))
    assert ear.renders - before == 4 and np.array_equal(first, again)
    assert first.shape == played.shape


def test_the_step_length_and_cutoff_are_part_of_what_is_heard(ear):
    before = ear.renders
    ear.rewards(np.array([70]), Timbre("saw", 2400.0, 0.1), np.array([70]), Timbre("saw", 600.0, 0.1))
    assert ear.renders - before == 2

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


TICK = 0.5 / 16  # seconds: a tick at 120 bpm
TARGET = np.array([[60, 64, 67, REST, 69]])
TARGET_LENGTHS = np.array([[16, 8, 8, 16, 32]])  # C4:1 E4:0.5 G4:0.5 _:1 A4:2


def test_timing_heard_alike_is_a_perfect_match_whatever_the_notes(ear):
    heard = ear.timing(SAW, SAW, TICK, TARGET, TARGET_LENGTHS, TARGET, TARGET_LENGTHS)
    assert np.allclose(heard, 1.0)
    # the envelope follows the length, not the pitch: other notes at the same times sound as timely
    other = ear.timing(SAW, SAW, TICK, TARGET + 2 * (TARGET != REST), TARGET_LENGTHS, TARGET, TARGET_LENGTHS)
    assert np.allclose(other, 1.0)


def test_a_length_is_heard_at_its_own_step_and_judged_on_its_own(ear):
    short = np.array([[8, 8, 8, 16, 32]])  # C4 half as long as its target
    heard = ear.timing(SAW, SAW, TICK, TARGET, short, TARGET, TARGET_LENGTHS)[0]
    assert heard[0] < 0.0  # half right sounds wrong: the agent keeps searching
    assert np.allclose(heard[1:], 1.0)  # the later steps, heard from their own onsets, are right
    rest_short = ear.timing(SAW, SAW, TICK, TARGET, np.array([[16, 8, 8, 8, 32]]), TARGET, TARGET_LENGTHS)[0]
    assert rest_short[3] == -0.5  # a rest is the silence it leaves: half of it, squared, onto [-1, 1]
    last = ear.timing(SAW, SAW, TICK, TARGET, np.array([[16, 8, 8, 16, 16]]), TARGET, TARGET_LENGTHS)[0]
    longer = ear.timing(SAW, SAW, TICK, TARGET, np.array([[16, 8, 8, 16, 24]]), TARGET, TARGET_LENGTHS)[0]
    assert last[4] < 0.0 < longer[4] < 1.0  # closer to the target's length sounds closer
    # a length is judged the same whichever note, or rest, was tried with it
    with_a_rest = ear.timing(SAW, SAW, TICK, np.array([[REST, 64, 67, REST, 69]]), short, TARGET,
                             TARGET_LENGTHS)[0]
    assert with_a_rest[0] == heard[0]


def test_a_listening_agent_learns_a_rhythm_by_ear():
    from ensemble import commands as cmd
    from ensemble.performance.sources import default_ear
    from ensemble.session import Session

    session = Session(seed=3, ear=default_ear)
    for line in ("seed C4:1 E4:0.5 G4:0.5 _:1 A4:2", "set all reward=listen rhythm=0.5,1,2",
                 "set all palette=chromatic:C4-B4 epsilon_min=0", "spawn 1"):
        session.submit(cmd.parse_command(line))
    for _ in range(80):
        session.next_phrase()
    (last,) = session.history.attempts[-1]
    assert (last.played, last.lengths) == ((60, 64, 67, REST, 69), (16, 8, 8, 16, 32))
    assert last.reward == pytest.approx(1.0)  # pitch and timing both heard as the seed's

"""CopyMelody-v0: Gymnasium's checker, whole episodes, symbolic and listening rewards."""

import numpy as np
import pytest
from support.optional import required_module

gymnasium = required_module("gymnasium", "pip install 'ensemble[gym]'")
from gymnasium.utils.env_checker import check_env  # noqa: E402

from ensemble.env import CopyMelodyEnv  # noqa: E402 - registers the environments
from ensemble.melody import Melody  # noqa: E402

NOTEBOOK = Melody.parse("C4 E4 G4 E4 C4").notes


def _note_index(env, note):
    return int(np.flatnonzero(env.unwrapped.actions == note)[0])


def test_the_notebook_task_is_registered_and_passes_the_checker():
    env = gymnasium.make("CopyMelody-v0")
    check_env(env.unwrapped)
    assert env.action_space == gymnasium.spaces.Discrete(12)  # C4..B4, no rests
    assert env.observation_space == gymnasium.spaces.Discrete(6)


@pytest.mark.usefixtures("glicol")
def test_the_listening_variant_passes_the_checker():
    check_env(gymnasium.make("CopyMelody-v0", reward="listen", voice="saw", target_voice="square").unwrapped)


def test_a_random_episode_ends_after_one_pass_over_the_melody():
    env = gymnasium.make("CopyMelody-v0", melody="C4 _ G4", palette="major:C4-C5", rests=True)
    env.action_space.seed(3)
    observation, info = env.reset(seed=3)
    assert observation == 0 and info["target"] == 60
    positions, rewards = [], []
    for _ in range(100):  # bounded: an episode that never ends fails instead of hanging
        observation, reward, terminated, truncated, info = env.step(env.action_space.sample())
        positions.append(observation)
        rewards.append(reward)
        assert not truncated
        if terminated:
            break
    else:
        pytest.fail("the episode did not end within 100 steps")
    assert positions == [1, 2, 3]
    assert all(r in (-1.0, 1.0) for r in rewards)
    assert len(info["attempt"]) == 3
    with pytest.raises(RuntimeError, match="reset"):
        env.unwrapped.step(0)


def test_the_right_notes_score_one_each():
    env = gymnasium.make("CopyMelody-v0")
    env.reset(seed=0)
    total = sum(env.step(_note_index(env, note))[1] for note in NOTEBOOK)
    assert total == 5.0


@pytest.mark.usefixtures("glicol")
def test_a_listening_episode_is_rewarded_by_how_the_notes_sound():
    env = gymnasium.make("CopyMelody-v0", reward="listen", voice="saw", target_voice="square")
    env.reset(seed=0)
    right = [env.step(_note_index(env, note))[1] for note in NOTEBOOK]
    env.reset()
    wrong = [env.step(_note_index(env, note + 1))[1] for note in NOTEBOOK]
    assert all(0.5 < r < 1.0 for r in right)  # a saw is like a square, never the same
    assert all(r < 0.0 for r in wrong)


def test_the_target_melody_and_voice_are_options_of_reset():
    env = gymnasium.make("CopyMelody-v0", render_mode="ansi")
    _, info = env.reset(options={"melody": "D4 D4 D4 D4 D4", "target_voice": "tri"})
    assert info["target"] == 62
    assert env.unwrapped.target_timbre.voice == "tri"
    env.step(_note_index(env, 62))
    assert env.render() == "target: D4 D4 D4 D4 D4\nplayed: D4"
    with pytest.raises(ValueError, match="5 steps"):
        env.reset(options={"melody": "C4 D4"})


@pytest.mark.parametrize(("options", "message"), [
    ({"reward": "loud"}, "reward=loud"),
    ({"palette": "chromatic:C9-C1"}, "palette"),
    ({"melody": "C4 H4"}, "not a note"),
    ({"melody": [60, 200]}, "MIDI 0-127"),
    ({"voice": "kazoo"}, "voice=kazoo"),
    ({"cutoff": 20}, "cutoff=20"),
    ({"step_seconds": 0}, "step_seconds=0"),
])
def test_bad_options_are_explained(options, message):
    with pytest.raises(ValueError, match=message):
        CopyMelodyEnv(**options)


def test_an_action_outside_the_palette_is_refused():
    env = CopyMelodyEnv()
    env.reset()
    with pytest.raises(ValueError, match="not in Discrete"):
        env.step(12)

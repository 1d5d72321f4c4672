"""TuneVoice-v0: the RaveForce-style task, on the real Glicol engine."""

import numpy as np
import pytest
from support.optional import required_module

gymnasium = required_module("gymnasium", "pip install 'ensemble[gym]'")
from gymnasium.utils.env_checker import check_env  # noqa: E402

from ensemble.env import TuneVoiceEnv  # noqa: E402
from ensemble.env.tune_voice import action_for, parameters  # noqa: E402

pytestmark = pytest.mark.usefixtures("glicol")

TARGET = {"attack": 0.01, "decay": 0.3, "cutoff": 1500.0}


def test_it_passes_the_checker():
    check_env(gymnasium.make("TuneVoice-v0").unwrapped)


def test_actions_map_onto_the_parameter_ranges_and_back():
    assert parameters(np.zeros(3)) == {"attack": 0.001, "decay": 0.02, "cutoff": 200.0}
    assert parameters(np.ones(3)) == pytest.approx({"attack": 0.2, "decay": 1.0, "cutoff": 8000.0})
    assert parameters(action_for(TARGET)) == pytest.approx(TARGET, rel=1e-5)


def test_the_target_settings_end_the_episode_with_no_distance():
    env = gymnasium.make("TuneVoice-v0", target=TARGET)
    observation, _ = env.reset(seed=0)
    assert observation[0].max() == 0.0 and observation[1].max() > 0.5  # silence so far; the target
    observation, reward, terminated, truncated, _ = env.step(action_for(TARGET))
    assert reward == pytest.approx(0.0, abs=1e-6) and terminated and not truncated
    assert np.array_equal(observation[0], observation[1])


def test_the_reward_grows_as_each_parameter_comes_closer():
    env = TuneVoiceEnv(target=TARGET)
    env.reset(seed=0)
    for name, far, near in [("attack", 0.15, 0.02), ("decay", 0.03, 0.2), ("cutoff", 250.0, 1200.0)]:
        rewards = [env.step(action_for({**TARGET, name: value}))[1] for value in (far, near)]
        assert rewards[0] < rewards[1] < 0.0, name


def test_a_random_episode_is_cut_off_after_fifty_attempts():
    env = gymnasium.make("TuneVoice-v0")
    env.reset(seed=1)
    env.action_space.seed(2)  # not the target's own seed, which would draw the target itself
    attempts = 0
    truncated = False
    while not truncated and attempts < 1000:  # bounded: one never cut off fails the count below
        _, reward, terminated, truncated, info = env.step(env.action_space.sample())
        attempts += 1
        assert reward == -info["distance_db"] < 0 and not terminated
    assert attempts == 50


def test_targets_are_drawn_from_the_seed():
    first = gymnasium.make("TuneVoice-v0").reset(seed=7)[1]["target"]
    again = gymnasium.make("TuneVoice-v0").reset(seed=7)[1]["target"]
    other = gymnasium.make("TuneVoice-v0").reset(seed=8)[1]["target"]
    assert first == again != other


def test_bad_settings_are_explained():
    with pytest.raises(ValueError, match="decay"):
        TuneVoiceEnv(target={"attack": 0.01, "cutoff": 500.0})
    with pytest.raises(ValueError, match="cutoff=50"):
        TuneVoiceEnv(target={**TARGET, "cutoff": 50.0})
    with pytest.raises(ValueError, match="voice 'kazoo'"):
        TuneVoiceEnv(voice="kazoo")
    with pytest.raises(ValueError, match="seconds=10"):
        TuneVoiceEnv(seconds=10)

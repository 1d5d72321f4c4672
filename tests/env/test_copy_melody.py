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


# -- with rhythm: each step a note and a length ---------------------------------------------------

RHYTHMIC = "C4:1 E4:0.5 G4:0.5 _:1 A4:2"
RHYTHMIC_NOTES = Melody.parse(RHYTHMIC).notes
RHYTHMIC_TICKS = (16, 8, 8, 16, 32)  # 16 ticks a beat


def _move(env, note, ticks):
    """The action playing `note` for `ticks`."""
    env = env.unwrapped
    return int(np.flatnonzero((env.actions == note) & (env.lengths == ticks))[0])


def _rhythmic(**options):
    return gymnasium.make("CopyMelody-v0", melody=RHYTHMIC, palette="major:C4-C5", rests=True,
                          rhythm=(0.5, 1, 2), **options)


def test_without_a_rhythm_the_spaces_are_those_of_pitch_alone():
    env = CopyMelodyEnv()
    assert env.lengths is None and env.target_lengths is None
    assert env.reset(seed=0) == (0, {"target": 60})
    observation, _, _, _, info = env.step(_note_index(env, 60))
    assert observation == 1 and info == {"note": 60, "target": 60}


@pytest.mark.parametrize("options", [
    {"rhythm": "0.5,1,2"},
    {"rhythm": (0.25, 1.5)},
    {"melody": RHYTHMIC},  # the melody's own lengths become the rhythm
    {"melody": RHYTHMIC, "rests": True, "reward": "near"},
])
def test_a_rhythm_passes_the_checker(options):
    check_env(gymnasium.make("CopyMelody-v0", **options).unwrapped)


@pytest.mark.usefixtures("glicol")
def test_the_listening_variant_with_a_rhythm_passes_the_checker():
    check_env(_rhythmic(reward="listen", voice="saw", target_voice="square").unwrapped)


def test_an_action_is_a_note_and_a_length_and_the_observation_says_where_the_next_note_starts():
    env = _rhythmic()
    assert env.action_space == gymnasium.spaces.Discrete(9 * 3)  # C major C4-C5 and rest, 3 lengths
    assert env.observation_space == gymnasium.spaces.MultiDiscrete([6, 5 * 32 + 1])
    observation, info = env.reset(seed=0)
    assert observation.tolist() == [0, 0] and info == {"target": 60, "target_length": 16}
    observation, _, _, _, info = env.step(_move(env, 62, 32))
    assert observation.tolist() == [1, 32]  # one step played, the next note starts 2 beats in
    assert info == {"note": 62, "length": 32, "target": 60, "target_length": 16}


@pytest.mark.parametrize("reward", ["exact", "near", "pitchclass"])
def test_the_target_notes_at_the_target_lengths_score_the_most_a_step_can(reward):
    env = _rhythmic(reward=reward)
    env.reset(seed=0)
    steps = [env.step(_move(env, note, ticks)) for note, ticks in zip(RHYTHMIC_NOTES, RHYTHMIC_TICKS,
                                                                      strict=True)]
    assert [step[1] for step in steps] == [1.0] * 5
    assert steps[-1][2] and steps[-1][4]["attempt"] == RHYTHMIC_NOTES
    assert steps[-1][4]["lengths"] == RHYTHMIC_TICKS
    assert steps[-1][0].tolist() == [5, sum(RHYTHMIC_TICKS)]


def _rewards_with_the_first_note_short(reward):
    env = _rhythmic(reward=reward)
    env.reset(seed=0)
    played = [8, *RHYTHMIC_TICKS[1:]]  # C4 for half a beat instead of one: everything after comes early
    return [env.step(_move(env, note, ticks))[1] for note, ticks in zip(RHYTHMIC_NOTES, played, strict=True)]


def test_exact_wants_the_length_too():
    assert _rewards_with_the_first_note_short("exact") == [-1.0, 1.0, 1.0, 1.0, 1.0]


def test_near_grades_the_length_and_the_onsets_it_shifts():
    # Half a beat short (8 ticks): timing scores 1 - 8/16 = 0.5 there, and every later note
    # starts 8 ticks early; each step averages its pitch (1) with its timing.
    assert _rewards_with_the_first_note_short("near") == [0.75] * 5


@pytest.mark.usefixtures("glicol")
def test_a_listening_episode_with_a_rhythm_hears_pitch_and_timing():
    env = _rhythmic(reward="listen", voice="saw", target_voice="saw")
    env.reset(seed=0)
    right = [env.step(_move(env, note, ticks))[1] for note, ticks in zip(RHYTHMIC_NOTES, RHYTHMIC_TICKS,
                                                                          strict=True)]
    assert right == pytest.approx([1.0] * 5)
    env.reset()
    long = [env.step(_move(env, note, 32))[1] for note in RHYTHMIC_NOTES]  # every note two beats
    heard_too_long = [r for r, ticks in zip(long, RHYTHMIC_TICKS, strict=True) if ticks != 32]
    assert all(r < 0.5 for r in heard_too_long)
    assert long[RHYTHMIC_TICKS.index(32)] == pytest.approx(1.0)  # the one that is two beats long


def test_a_q_learner_on_position_and_onset_learns_the_rhythm():
    """Tabular Q-learning keyed by the observation (as the notebook did by position alone)."""
    env = _rhythmic(reward="near")
    rng = np.random.default_rng(7)
    q = {}
    n = env.action_space.n
    for episode in range(3000):
        observation, _ = env.reset(seed=episode)
        epsilon = max(0.05, 1.0 - episode / 1500)
        done = False
        while not done:
            state = tuple(observation.tolist())
            values = q.setdefault(state, np.zeros(n))
            action = int(rng.integers(n)) if rng.random() < epsilon else int(np.argmax(values))
            observation, reward, done, _, info = env.step(action)
            following = 0.0 if done else q.get(tuple(observation.tolist()), np.zeros(n)).max()
            values[action] += 0.5 * (reward + 0.9 * following - values[action])
    observation, _ = env.reset()
    done = False
    while not done:
        observation, _, done, _, info = env.step(int(np.argmax(q[tuple(observation.tolist())])))
    assert info["attempt"] == RHYTHMIC_NOTES and info["lengths"] == RHYTHMIC_TICKS


def test_a_rhythmic_target_renders_with_its_lengths_and_can_change_at_reset():
    env = _rhythmic(render_mode="ansi")
    env.reset(options={"melody": "D4:2 D4 D4:1 D4 D4"})  # without a length: a step, half a beat
    assert env.unwrapped.target_lengths == (32, 8, 16, 8, 8)
    env.step(_move(env, 62, 16))
    assert env.render() == "target: D4:2 D4:0.5 D4:1 D4:0.5 D4:0.5\nplayed: D4:1"


@pytest.mark.parametrize(("options", "message"), [
    ({"rhythm": "0.3"}, "rhythm=0.3"),
    ({"rhythm": (0.5, 32)}, "16"),
    ({"rhythm": "step", "melody": RHYTHMIC}, "has lengths"),
    ({"melody": "C4:0.1"}, "length '0.1'"),
])
def test_bad_rhythms_are_explained(options, message):
    with pytest.raises(ValueError, match=message):
        CopyMelodyEnv(**options)


def test_a_melody_with_lengths_needs_an_environment_with_a_rhythm():
    with pytest.raises(ValueError, match="with a rhythm"):
        CopyMelodyEnv().reset(options={"melody": "C4:1 E4 G4 E4 C4"})

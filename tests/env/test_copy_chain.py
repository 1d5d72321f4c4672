"""copy_chain_v0: PettingZoo's API tests, seeding, rewards, hand-offs, the loop, learners in a chain."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from support.optional import required_module

pettingzoo = required_module("pettingzoo", "pip install 'ensemble[pettingzoo]'")
from gymnasium import spaces  # noqa: E402 - PettingZoo brings Gymnasium
from pettingzoo.test import api_test, parallel_api_test  # noqa: E402
from pettingzoo.test.seed_test import check_environment_deterministic  # noqa: E402

from ensemble.env import copy_chain  # noqa: E402
from ensemble.env.copy_chain import CopyChainEnv  # noqa: E402
from ensemble.melody import Melody  # noqa: E402

NOTEBOOK = Melody.parse("C4 E4 G4 E4 C4").notes
# The one warning PettingZoo's test gives: an action is a whole attempt, a note per step.
MULTIDISCRETE = ("Action space for each agent probably should be gymnasium.spaces.box or "
                 "gymnasium.spaces.discrete")


def _moves(env, notes, ticks=None):
    """The action that plays `notes` (at `ticks`, with a rhythm)."""
    env = env.unwrapped
    if ticks is None:
        return np.array([int(np.flatnonzero(env.actions == note)[0]) for note in notes])
    return np.array([int(np.flatnonzero((env.actions == note) & (env.lengths == length))[0])
                     for note, length in zip(notes, ticks, strict=True)])


def _copy(env, agent):
    """The action of an agent that copies its target perfectly (read from the environment)."""
    target = env.unwrapped.target(agent)
    return _moves(env, target.notes, target.lengths)


def _warnings_of(test, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        test(*args, **kwargs)
    return {str(warning.message) for warning in caught}


@pytest.mark.parametrize("options", [
    {},
    {"n_agents": 1, "loop": True},
    {"n_agents": 3, "loop": True, "handoff_as": "best", "reward": "near"},
    {"melody": None, "steps": 8, "palette": "chromatic:C4-B5", "rests": True},
    {"melody": "C4:1 E4:0.5 G4:0.5 _:1 A4:2", "rests": True, "reward": "pitchclass"},
    {"rhythm": "0.5,1", "n_agents": 2},
])
def test_pettingzoos_api_test_passes(options):
    env = copy_chain.env(max_cycles=40, render_mode="ansi", **options)
    assert _warnings_of(api_test, env, num_cycles=100) <= {MULTIDISCRETE}  # 100 cycles: past truncation


def test_pettingzoos_parallel_api_test_passes():
    assert _warnings_of(parallel_api_test, copy_chain.parallel_env(max_cycles=40), num_cycles=100) == set()


@pytest.mark.usefixtures("glicol")
@pytest.mark.parametrize("options", [{}, {"rhythm": "0.5,1"}])
def test_the_listening_variant_passes_the_api_test(options):
    env = copy_chain.env(n_agents=2, reward="listen", voice=["saw", "square"], max_cycles=10, **options)
    assert _warnings_of(api_test, env, num_cycles=20) <= {MULTIDISCRETE}


def test_the_spaces_are_a_note_per_step_and_what_the_last_attempt_scored():
    env = copy_chain.env(n_agents=3)
    assert env.possible_agents == ["agent_0", "agent_1", "agent_2"]
    assert env.action_space("agent_1") == spaces.MultiDiscrete([12] * 5)  # C4..B4 per step
    assert env.observation_space("agent_1").shape == (10,)
    env.reset(seed=0)
    assert env.last()[0].tolist() == [-1.0] * 5 + [0.0] * 5  # nothing played yet
    env.step(_moves(env, (60, 64, 67, 65, 61)))  # three right, two wrong
    assert env.observe("agent_0").tolist() == [0, 4, 7, 5, 1, 1, 1, 1, -1, -1]
    assert env.rewards == {"agent_0": pytest.approx(0.2), "agent_1": 0, "agent_2": 0}
    info = env.infos["agent_0"]
    assert info == {"target": NOTEBOOK, "attempt": (60, 64, 67, 65, 61),
                    "step_rewards": (1.0, 1.0, 1.0, -1.0, -1.0)}


def test_an_episode_is_truncated_after_max_cycles_and_every_agent_leaves():
    env = copy_chain.env(n_agents=2, max_cycles=3)
    env.reset(seed=0)
    turns = 0
    for agent in env.agent_iter(100):  # bounded: an episode that never ends fails the count
        _, _, terminated, truncated, _ = env.last()
        assert not terminated
        if truncated:
            env.step(None)
        else:
            env.step(env.action_space(agent).sample())
            turns += 1
    assert turns == 6 and env.agents == [] and env.unwrapped.cycles == 3


@pytest.mark.parametrize("reward", ["exact", "near", "pitchclass"])
def test_a_perfect_copy_scores_one_down_the_chain(reward):
    env = copy_chain.env(n_agents=3, reward=reward, max_cycles=2)
    env.reset(seed=0)
    for agent in env.agent_iter():
        _, last_reward, _, truncated, _ = env.last()
        if truncated:
            assert last_reward == 1.0
            env.step(None)
        else:
            env.step(_copy(env, agent))
            assert env.rewards[agent] == 1.0
            assert env.infos[agent]["attempt"] == NOTEBOOK
    assert env.unwrapped.cycles == 2


def test_a_perfect_copy_of_a_melody_with_lengths_scores_one():
    env = copy_chain.env(n_agents=2, melody="C4:1 E4:0.5 G4:0.5 _:1 A4:2", palette="major:C4-C5", rests=True,
                         rhythm=(0.5, 1, 2), reward="near")
    env.reset(seed=0)
    env.step(_copy(env, "agent_0"))
    assert env.rewards["agent_0"] == 1.0
    assert env.infos["agent_0"]["lengths"] == (16, 8, 8, 16, 32)
    played = _copy(env, "agent_1")
    played[0] = _moves(env, [60], [8])[0]  # the first note half a beat short: every later onset early
    env.step(played)
    assert env.infos["agent_1"]["step_rewards"] == (0.75,) * 5  # as CopyMelody-v0 grades it


@pytest.mark.usefixtures("glicol")
def test_a_listening_agent_hears_its_predecessor_in_the_predecessors_voice():
    env = copy_chain.env(n_agents=2, reward="listen", voice="square", seed_voice="saw")
    env.reset(seed=0)
    env.step(_copy(env, "agent_0"))
    assert 0.5 < env.rewards["agent_0"] < 1.0  # a square copying the seed's saw: alike, never the same
    env.step(_copy(env, "agent_1"))
    assert env.rewards["agent_1"] == pytest.approx(1.0)  # a square copying a square
    wrong = _moves(env, [note + 1 for note in NOTEBOOK])
    env.step(wrong)
    assert all(r < 0.0 for r in env.infos["agent_0"]["step_rewards"])


def test_what_an_agent_played_last_is_what_its_successor_copies():
    env = copy_chain.env(n_agents=3)
    env.reset(seed=0)
    assert env.unwrapped.target("agent_1").notes == NOTEBOOK  # a predecessor that has not played: the seed
    env.step(_moves(env, (62, 62, 62, 62, 62)))
    assert env.unwrapped.target("agent_1").notes == (62,) * 5
    assert env.unwrapped.melodies["agent_0"].notes == (62,) * 5
    env.step(_moves(env, (62, 64, 62, 64, 62)))
    assert env.unwrapped.target("agent_2").notes == (62, 64, 62, 64, 62)
    env.step(_copy(env, "agent_2"))
    assert env.unwrapped.target("agent_0").notes == NOTEBOOK  # no loop: the first copies the seed


def test_handing_off_the_best_passes_on_the_best_attempt_at_the_current_target():
    env = copy_chain.env(n_agents=2, handoff_as="best")
    env.reset(seed=0)
    right, wrong = _moves(env, NOTEBOOK), _moves(env, (61,) * 5)
    env.step(right)
    env.step(wrong)  # agent_1
    env.step(wrong)  # agent_0 misses after a hit: it still passes on the hit
    assert env.unwrapped.melodies["agent_0"].notes == NOTEBOOK
    assert env.infos["agent_0"]["attempt"] == (61,) * 5
    env.step(_moves(env, NOTEBOOK))  # agent_1 copies that hit
    env.step(wrong)
    env.step(wrong)  # agent_1 misses its target, which has not changed: its hit stands
    assert env.unwrapped.melodies["agent_1"].notes == NOTEBOOK

    sample = copy_chain.env(n_agents=2, handoff_as="sample")
    sample.reset(seed=0)
    for action in (right, wrong, wrong):
        sample.step(action)
    assert sample.unwrapped.melodies["agent_0"].notes == (61,) * 5  # what it played last


def test_a_new_target_restarts_handing_off_the_best():
    env = copy_chain.env(n_agents=2, handoff_as="best")
    env.reset(seed=0)
    env.step(_moves(env, (62,) * 5))
    env.step(_moves(env, (62,) * 5))  # agent_1 copies D4 x5 perfectly
    env.step(_moves(env, (64,) * 5))  # agent_0 now passes on a better attempt: E4 x5 scores more
    assert env.unwrapped.target("agent_1").notes == (64,) * 5
    env.step(_moves(env, (60,) * 5))  # agent_1 misses the new target: still its best at it
    assert env.unwrapped.melodies["agent_1"].notes == (60,) * 5


def _shifting(env, agent):
    """A hand-made imperfect copier: its target, every note a semitone up (B4 wraps to C4)."""
    return (_moves(env, env.unwrapped.target(agent).notes) + 1) % 12


def test_in_a_loop_the_last_agent_feeds_the_first_and_the_melody_keeps_changing():
    env = copy_chain.env(n_agents=2, loop=True)
    env.reset(seed=0)
    firsts = []
    for _ in range(4):
        firsts.append(env.unwrapped.target("agent_0").notes)
        env.step(_shifting(env, "agent_0"))
        env.step(_shifting(env, "agent_1"))
    assert firsts == [tuple(60 + (note - 60 + shift) % 12 for note in NOTEBOOK) for shift in (0, 2, 4, 6)]

    chain = copy_chain.env(n_agents=2)
    chain.reset(seed=0)
    for _ in range(4):
        assert chain.unwrapped.target("agent_0").notes == NOTEBOOK  # without a loop: always the seed
        chain.step(_shifting(chain, "agent_0"))
        chain.step(_shifting(chain, "agent_1"))


def test_one_agent_in_a_loop_recopies_itself():
    env = copy_chain.env(n_agents=1, loop=True)
    env.reset(seed=0)
    env.step(_moves(env, (62, 64, 65, 67, 69)))
    assert env.unwrapped.target("agent_0").notes == (62, 64, 65, 67, 69)
    env.step(_moves(env, (62, 64, 65, 67, 69)))
    assert env.rewards["agent_0"] == 1.0


def _q_learners(env, seed):
    """Tabular Q-learning per step position (the ensemble's agents' own state), one table an
    agent, learning from what the observation says its last attempt scored step by step."""
    rng = np.random.default_rng(seed)
    steps, moves = env.unwrapped.steps, int(env.action_space("agent_0").nvec[0])
    q = {agent: np.zeros((steps, moves)) for agent in env.possible_agents}
    turns = dict.fromkeys(env.possible_agents, 0)
    positions = np.arange(steps)
    for agent in env.agent_iter(10**6):  # bounded; max_cycles ends it long before
        observation, _, _, truncated, _ = env.last()
        if truncated:
            env.step(None)
            continue
        table = q[agent]
        if turns[agent]:
            played = observation[:steps].astype(int)
            table[positions, played] += 0.5 * (observation[steps:] - table[positions, played])
        epsilon = 0.3 * 0.85 ** turns[agent]
        greedy = np.argmax(table + rng.random(table.shape) * 1e-9, axis=1)  # ties broken at random
        action = np.where(rng.random(steps) < epsilon, rng.integers(moves, size=steps), greedy)
        turns[agent] += 1
        env.step(action)
    return {agent: tuple(int(env.unwrapped.actions[move]) for move in np.argmax(table, axis=1))
            for agent, table in q.items()}


@pytest.mark.parametrize("handoff_as", ["sample", "best"])
def test_a_chain_of_q_learners_passes_the_seed_along(handoff_as):
    env = copy_chain.env(n_agents=4, handoff_as=handoff_as, max_cycles=200)
    env.reset(seed=3)
    learned = _q_learners(env, seed=3)
    assert learned == dict.fromkeys(env.possible_agents, NOTEBOOK)
    assert {agent: melody.notes for agent, melody in env.unwrapped.melodies.items()} == learned


def test_the_same_seed_gives_the_same_run():
    check_environment_deterministic(copy_chain.env(melody=None), copy_chain.env(melody=None), 500)
    seeds = [CopyChainEnv(melody=None, steps=8, palette="chromatic:C3-B4") for _ in range(3)]
    for env, seed in zip(seeds, (7, 7, 8), strict=True):
        env.reset(seed=seed)
    first, again, other = (env.seed_melody for env in seeds)
    assert first == again != other and len(first) == 8
    assert all(48 <= note <= 71 for note in first.notes)
    runs = []
    for seed in (5, 5):
        env = copy_chain.env(n_agents=3, melody=None, max_cycles=30)
        env.reset(seed=seed)
        runs.append(_q_learners(env, seed=seed))
    assert runs[0] == runs[1]


def test_the_seed_melody_is_an_option_of_reset():
    env = copy_chain.env(n_agents=2, render_mode="ansi")
    env.reset(options={"melody": "D4 D4 D4 D4 D4"})
    assert env.unwrapped.target("agent_0").notes == (62,) * 5
    env.step(_moves(env, (62, 62, 62, 62, 63)))
    assert env.render() == "seed     D4 D4 D4 D4 D4\nagent_0  D4 D4 D4 D4 D#4  +0.60\nagent_1  -"
    with pytest.raises(ValueError, match="5 steps"):
        env.reset(options={"melody": "C4 D4"})


def test_a_rhythmic_chain_renders_lengths():
    env = copy_chain.env(n_agents=1, melody="C4:1 D4", rhythm="0.5,1", render_mode="ansi")
    env.reset(seed=0)
    env.step(_moves(env, (60, 62), (16, 16)))
    assert env.render() == "seed     C4:1 D4:0.5\nagent_0  C4:1 D4:1  +0.00"


@pytest.mark.parametrize(("options", "message"), [
    ({"n_agents": 0}, "n_agents=0"),
    ({"handoff_as": "greedy"}, "handoff_as='greedy'"),
    ({"max_cycles": 0}, "max_cycles=0"),
    ({"melody": None, "steps": 0}, "steps=0"),
    ({"reward": "loud"}, "reward=loud"),
    ({"palette": "chromatic:C9-C1"}, "palette"),
    ({"melody": "C4 H4"}, "not a note"),
    ({"voice": "kazoo"}, "voice=kazoo"),
    ({"n_agents": 2, "voice": ["saw"]}, "one for each of the 2 agents"),
    ({"rhythm": "0.3"}, "rhythm=0.3"),
    ({"render_mode": "human"}, "render_mode 'human'"),
])
def test_bad_options_are_explained(options, message):
    with pytest.raises(ValueError, match=message):
        CopyChainEnv(**options)


def test_an_action_outside_the_space_is_refused():
    env = copy_chain.env()
    env.reset()
    with pytest.raises(ValueError, match="not in MultiDiscrete"):
        env.step([0, 1, 2, 3, 12])
    with pytest.raises(ValueError, match="not in MultiDiscrete"):
        env.step([0, 1])


def test_without_pettingzoo_ensemble_still_imports_and_the_error_says_how_to_install_it():
    hide = ("import sys; sys.modules['pettingzoo'] = None; import ensemble, ensemble.env; print('ok');"
            "import ensemble.env.copy_chain")
    result = subprocess.run([sys.executable, "-c", hide], capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 1 and result.stdout == "ok\n"
    assert ("ImportError: ensemble.env.copy_chain needs PettingZoo: pip install 'ensemble[pettingzoo]'"
            in result.stderr)

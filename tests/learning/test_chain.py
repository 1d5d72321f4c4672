import pytest

from ensemble.errors import UserError
from ensemble.learning.chain import SEED, Ensemble
from ensemble.melody import Melody

SEED_MELODY = Melody.parse("C4 E4 G4 C5 G4 E4")


def _run(ensemble, phrases):
    return [ensemble.step() for _ in range(phrases)]


def test_spawn_builds_a_chain():
    ensemble = Ensemble(SEED_MELODY)
    assert ensemble.spawn(3) == ["a0", "a1", "a2"]
    assert ensemble.follows == {"a0": SEED, "a1": "a0", "a2": "a1"}


def test_targets_are_the_predecessors_greedy_melody_at_the_start_of_the_attempt():
    ensemble = Ensemble(SEED_MELODY, seed=1)
    ensemble.spawn(2)
    _run(ensemble, 5)
    a0_greedy = ensemble.greedy("a0")
    attempts = {a.agent: a for a in ensemble.step()}
    assert attempts["a0"].target == SEED_MELODY.notes
    assert attempts["a1"].target == a0_greedy


def test_the_whole_chain_converges_on_the_seed():
    ensemble = Ensemble(SEED_MELODY, seed=2)
    ensemble.spawn(4)
    _run(ensemble, 80)
    assert all(ensemble.greedy(name) == SEED_MELODY.notes for name in ensemble.names)


def test_set_all_changes_agents_and_later_spawns():
    ensemble = Ensemble(SEED_MELODY)
    ensemble.spawn(2)
    ensemble.configure("all", {"alpha": "0.9"})
    ensemble.configure("a1", {"reward": "near"})
    ensemble.spawn()
    assert [ensemble.hyperparameters(n).alpha for n in ensemble.names] == [0.9, 0.9, 0.9]
    assert ensemble.hyperparameters("a1").reward == "near"
    assert ensemble.hyperparameters("a2").reward == "exact"


def test_unknown_agent_is_a_clear_error():
    ensemble = Ensemble(SEED_MELODY)
    ensemble.spawn()
    with pytest.raises(UserError, match="no agent 'a9' \\(agents: a0\\)"):
        ensemble.configure("a9", {"alpha": "0.1"})


def test_practice_adds_silent_attempts():
    ensemble = Ensemble(SEED_MELODY)
    ensemble.spawn(2)
    ensemble.configure("a1", {"practice": "3"})
    attempts = ensemble.step()
    assert sum(a.heard for a in attempts) == 2
    assert [a.agent for a in attempts if not a.heard] == ["a1"] * 3


def test_reseeding_with_another_length_keeps_what_fits():
    ensemble = Ensemble(SEED_MELODY, seed=3)
    ensemble.spawn(2)
    _run(ensemble, 60)
    ensemble.reseed(Melody.parse("C4 E4 G4"))
    assert ensemble.greedy("a0") == (60, 64, 67)
    ensemble.reseed(Melody.parse("C4 E4 G4 C5 G4 E4 C4 _"))
    attempts = ensemble.step()
    assert all(len(a.played) == 8 for a in attempts)


def test_same_seed_same_performance():
    def performance(seed):
        ensemble = Ensemble(SEED_MELODY, seed=seed)
        ensemble.spawn(3)
        return [[a.played for a in phrase] for phrase in _run(ensemble, 20)]

    assert performance(5) == performance(5)
    assert performance(5) != performance(6)


def test_each_agent_has_its_own_midi_channel_unless_told():
    ensemble = Ensemble(SEED_MELODY)
    ensemble.spawn(3)
    ensemble.configure("a2", {"channel": "10", "program": "33"})
    sounds = [ensemble.sound(name) for name in ensemble.names]
    assert [s.channel for s in sounds] == [1, 2, 10]
    assert [s.program for s in sounds] == [None, None, 33]


# -- listening agents (the real Glicol engine renders what they hear) ------------------------


@pytest.mark.usefixtures("glicol")
def test_a_chain_can_mix_listening_and_symbolic_agents():
    ensemble = Ensemble(SEED_MELODY, seed=2)
    ensemble.spawn(3)
    ensemble.configure("all", {"palette": "chromatic:C4-C5", "rests": "off"})
    ensemble.configure("a1", {"reward": "listen", "voice": "tri"})
    ensemble.configure("a0", {"voice": "square"})
    for _ in range(60):
        attempts = {a.agent: a for a in ensemble.step()}
    assert all(ensemble.greedy(name) == SEED_MELODY.notes for name in ensemble.names)
    assert attempts["a0"].reward == 1.0  # symbolic: a hit is worth exactly 1
    assert 0.5 < attempts["a1"].reward < 0.99  # a triangle hears a square: alike, never the same


@pytest.mark.usefixtures("glicol")
def test_listening_agents_hear_steps_as_long_as_the_session_plays_them():
    ensemble = Ensemble(SEED_MELODY)
    ensemble.spawn(1)
    ensemble.configure("a0", {"reward": "listen"})
    renders = ensemble.ear.renders
    ensemble.step_seconds = 0.31
    ensemble.step()
    ensemble.step_seconds = 0.12
    ensemble.step()
    assert ensemble.ear.renders - renders >= 2 * 2  # a played note and a target note, per length


def test_without_the_engine_listening_is_refused_and_nothing_changes(monkeypatch, tmp_path):
    from ensemble.glicol import fetch
    from ensemble.glicol.engine import shared_module

    monkeypatch.setenv(fetch.WASM_ENV, str(tmp_path / "missing.wasm"))
    shared_module.cache_clear()
    try:
        ensemble = Ensemble(SEED_MELODY)
        ensemble.spawn(2)
        with pytest.raises(UserError, match=r"missing\.wasm"):
            ensemble.configure("all", {"reward": "listen", "alpha": "0.9"})
        assert ensemble.hyperparameters("a0").reward == "exact"
        assert ensemble.defaults.alpha == 0.5 and ensemble.ear is None
        ensemble.step()  # and the music goes on
    finally:
        shared_module.cache_clear()


@pytest.mark.usefixtures("glicol")
def test_listening_is_as_deterministic_as_the_rest_so_journals_replay():
    def attempts():
        ensemble = Ensemble(SEED_MELODY, seed=4)
        ensemble.spawn(2)
        ensemble.configure("all", {"reward": "listen", "epsilon": "0.5"})
        ensemble.configure("a1", {"voice": "square"})
        return [(a.agent, a.played, a.reward) for _ in range(15) for a in ensemble.step()]

    first, second = attempts(), attempts()
    assert first == second
    assert len({reward for _, _, reward in first}) > 5  # graded rewards, not just hits and misses

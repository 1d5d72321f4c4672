import pytest

from ensemble.errors import UserError
from ensemble.learning.chain import SEED, Attempt, Chain
from ensemble.learning.settings import LearningSettings
from ensemble.melody import Melody

SEED_MELODY = Melody.parse("C4 E4 G4 C5 G4 E4")


def _run(ensemble, phrases):
    return [ensemble.step() for _ in range(phrases)]


def test_spawn_builds_a_chain():
    ensemble = Chain(SEED_MELODY)
    assert ensemble.spawn(3) == ["a0", "a1", "a2"]
    assert ensemble.follows == {"a0": SEED, "a1": "a0", "a2": "a1"}


def test_targets_are_the_predecessors_greedy_melody_at_the_start_of_the_attempt():
    ensemble = Chain(SEED_MELODY, seed=1)
    ensemble.spawn(2)
    _run(ensemble, 5)
    a0_greedy = ensemble.greedy("a0")
    attempts = {a.agent: a for a in ensemble.step()}
    assert attempts["a0"].target == SEED_MELODY.notes
    assert attempts["a1"].target == a0_greedy


def test_the_whole_chain_converges_on_the_seed():
    ensemble = Chain(SEED_MELODY, seed=2)
    ensemble.spawn(4)
    _run(ensemble, 80)
    assert all(ensemble.greedy(name) == SEED_MELODY.notes for name in ensemble.names)


def test_set_all_changes_agents_and_later_spawns():
    ensemble = Chain(SEED_MELODY)
    ensemble.spawn(2)
    ensemble.configure("all", {"alpha": "0.9"})
    ensemble.configure("a1", {"reward": "near"})
    ensemble.spawn()
    assert [ensemble.settings(n).alpha for n in ensemble.names] == [0.9, 0.9, 0.9]
    assert ensemble.settings("a1").reward == "near"
    assert ensemble.settings("a2").reward == "exact"


def test_unknown_agent_is_a_clear_error():
    ensemble = Chain(SEED_MELODY)
    ensemble.spawn()
    with pytest.raises(UserError, match="no agent 'a9' \\(agents: a0\\)"):
        ensemble.configure("a9", {"alpha": "0.1"})


def test_practice_adds_silent_attempts():
    ensemble = Chain(SEED_MELODY)
    ensemble.spawn(2)
    ensemble.configure("a1", {"practice": "3"})
    attempts = ensemble.step()
    assert sum(a.heard for a in attempts) == 2
    assert [a.agent for a in attempts if not a.heard] == ["a1"] * 3


def test_an_attempt_carries_no_dict_of_its_own():
    # thousands are made a second at 64 agents: each is its fields and nothing more
    ensemble = Chain(SEED_MELODY)
    ensemble.spawn(1)
    attempt = ensemble.step()[0]
    assert not hasattr(attempt, "__dict__") and isinstance(attempt, Attempt)


def test_reseeding_with_another_length_keeps_what_fits():
    ensemble = Chain(SEED_MELODY, seed=3)
    ensemble.spawn(2)
    _run(ensemble, 60)
    ensemble.reseed(Melody.parse("C4 E4 G4"))
    assert ensemble.greedy("a0") == (60, 64, 67)
    ensemble.reseed(Melody.parse("C4 E4 G4 C5 G4 E4 C4 _"))
    attempts = ensemble.step()
    assert all(len(a.played) == 8 for a in attempts)


def test_same_seed_same_performance():
    def performance(seed):
        ensemble = Chain(SEED_MELODY, seed=seed)
        ensemble.spawn(3)
        return [[a.played for a in phrase] for phrase in _run(ensemble, 20)]

    assert performance(5) == performance(5)
    assert performance(5) != performance(6)


def test_the_chain_knows_nothing_of_sound():
    chain = Chain(SEED_MELODY)
    chain.spawn(1)
    with pytest.raises(UserError, match="unknown setting 'voice'"):
        chain.configure("a0", {"voice": "square"})


def test_without_an_ear_listening_is_refused_and_nothing_changes():
    def no_ear():
        raise UserError("no ear here")

    chain = Chain(SEED_MELODY, can_listen=no_ear)
    chain.spawn(2)
    with pytest.raises(UserError, match="no ear here"):
        chain.configure("all", {"reward": "listen", "alpha": "0.9"})
    assert chain.settings("a0").reward == "exact"
    assert chain.defaults.alpha == 0.5
    chain.step()  # and the music goes on


RHYTHM_SEED = Melody.parse("C4:1 E4:0.5 G4:0.5 _:1 A4:2 F4:0.5 D4:0.5 C4:2")


def test_an_agent_learns_notes_and_lengths_and_its_follower_copies_its_rhythm():
    chain = Chain(RHYTHM_SEED, seed=3)
    chain.spawn(2)
    chain.configure("all", {"rhythm": "0.5,1,2"})
    attempts = _run(chain, 120)[-1]
    a0, a1 = attempts
    assert a0.target_lengths == RHYTHM_SEED.lengths
    assert (a0.played, a0.lengths) == (RHYTHM_SEED.notes, RHYTHM_SEED.lengths)
    assert a0.accuracy == 1.0
    # a1's target is a0's greedy melody, rhythm and all
    assert a1.target == RHYTHM_SEED.notes and a1.target_lengths == RHYTHM_SEED.lengths


def test_without_rhythm_an_attempt_has_no_lengths_and_the_same_draws():
    plain = Chain(SEED_MELODY, seed=5)
    plain.spawn(2)
    stepped = Chain(SEED_MELODY, seed=5)
    stepped.spawn(2)
    stepped.configure("all", {"rhythm": "step"})
    for _ in range(10):
        first, second = plain.step(), stepped.step()
        assert first == second
        assert all(a.lengths is None for a in first)


def test_an_agent_playing_steps_is_scored_on_the_length_of_its_step():
    chain = Chain(Melody.parse("C4:0.5 E4:1"), seed=0)  # E4 lasts two steps: out of reach
    chain.spawn(1)
    for attempts in _run(chain, 80):
        assert attempts[0].lengths == (8, 8)
    assert attempts[0].accuracy <= 0.5


# -- agents on other laptops ---------------------------------------------------------------------

def test_an_agent_on_another_laptop_is_copied_once_heard_and_the_seed_until_then():
    ensemble = Chain(SEED_MELODY)
    ensemble.spawn(2)
    ensemble.follow("a0", "alice/a3")
    assert ensemble.outside_targets() == {"alice/a3"}
    before = {a.agent: a for a in ensemble.step()}
    assert before["a0"].target == SEED_MELODY.notes  # nothing heard yet
    shared = Melody.parse("D4 F4 A4 D5 A4 F4")
    ensemble.hear_outside("alice/a3", shared)
    a0_greedy = ensemble.greedy("a0")
    after = {a.agent: a for a in ensemble.step()}
    assert after["a0"].target == shared.notes
    assert after["a1"].target == a0_greedy  # the chain goes on from it here as ever


def test_a_melody_from_another_laptop_is_fitted_to_our_phrase():
    ensemble = Chain(SEED_MELODY)  # six steps
    ensemble.spawn(1, first_follows="bob/a0")
    ensemble.hear_outside("bob/a0", Melody.parse("C4 D4 E4 F4"))  # four: looped
    assert ensemble.step()[0].target == (60, 62, 64, 65, 60, 62)
    ensemble.hear_outside("bob/a0", Melody.parse("C4 D4 E4 F4 G4 A4 B4 C5"))  # eight: cut
    assert ensemble.step()[0].target == (60, 62, 64, 65, 67, 69)


def test_spawn_follow_starts_a_sub_chain_of_another_laptops_agent():
    ensemble = Chain(SEED_MELODY)
    ensemble.spawn(1)
    assert ensemble.spawn(3, first_follows="alice/a3") == ["a1", "a2", "a3"]
    assert ensemble.follows == {"a0": SEED, "a1": "alice/a3", "a2": "a1", "a3": "a2"}
    ensemble.remove("a1")  # its follower takes over what it copied
    assert ensemble.follows["a2"] == "alice/a3"


def test_spawn_follow_of_a_missing_local_agent_is_refused_and_nothing_spawned():
    ensemble = Chain(SEED_MELODY)
    with pytest.raises(UserError, match="no agent 'a7'"):
        ensemble.spawn(2, first_follows="a7")
    assert ensemble.names == []


def test_greedy_melodies_are_what_a_laptop_shares():
    ensemble = Chain(SEED_MELODY, seed=3)
    ensemble.spawn(2)
    _run(ensemble, 3)
    shared = ensemble.greedy_melodies()
    assert list(shared) == ["a0", "a1"]
    assert shared["a0"] == Melody(ensemble.greedy("a0"))
    assert shared["a0"].lengths is None  # no rhythm: steps travel as steps
    ensemble.configure("all", {"rhythm": "0.5,1"})
    ensemble.step()
    lengths = ensemble.greedy_melodies()["a1"].lengths
    assert lengths is not None and set(lengths) <= {8, 16}  # ticks: a step of 0.5 beat is 8


# -- hand-off rules, loops and self-copying ----------------------------------------------------------

def _targets_of(attempts, agent):
    return [a.target for a in attempts if a.agent == agent]


def test_after_n_attempts_an_agent_hands_on_what_it_learned_and_until_then_what_it_had():
    ensemble = Chain(SEED_MELODY, seed=4)
    ensemble.spawn(2)
    ensemble.configure("a0", {"handoff": "after:5"})
    held = ensemble.greedy("a0")  # what a1 copies until a0 has made 5 attempts
    seen = []
    for _ in range(8):
        before = ensemble.greedy("a0")
        attempts = ensemble.step()
        seen.append((before, _targets_of(attempts, "a1")[0]))
    assert all(target == held for _, target in seen[:5])
    assert all(target == before for before, target in seen[5:])  # then, as it stands, each phrase


def test_at_an_accuracy_an_agent_hands_on_only_attempts_that_good():
    ensemble = Chain(SEED_MELODY, seed=5)
    ensemble.spawn(2)
    ensemble.configure("a0", {"handoff": "at:1"})
    passed, exact = ensemble.greedy("a0"), None
    for _ in range(60):
        attempts = {a.agent: a for a in ensemble.step()}
        assert attempts["a1"].target == passed
        if attempts["a0"].accuracy == 1.0:
            exact = passed = ensemble.greedy("a0")
    assert exact == SEED_MELODY.notes  # it got there, and only then did a1 hear it


def test_a_sampling_agent_hands_on_what_it_played():
    ensemble = Chain(SEED_MELODY, seed=6)
    ensemble.spawn(2)
    ensemble.configure("a0", {"handoff_as": "sample", "epsilon_min": "0.3"})
    played = None
    for _ in range(20):
        attempts = {a.agent: a for a in ensemble.step()}
        if played is not None:
            assert attempts["a1"].target == played
        played = attempts["a0"].played


def test_a_loop_keeps_changing_and_stays_within_the_palette():
    ensemble = Chain(SEED_MELODY, seed=7)
    ensemble.spawn(4)
    ensemble.configure("all", {"handoff_as": "sample", "epsilon_min": "0.1"})
    ensemble.follow("a0", "a3")  # the last feeds the first: nobody copies the seed
    palette = set(LearningSettings().actions)
    handed, best = set(), set()
    for phrase in range(600):
        attempts = ensemble.step()
        assert all(set(a.played) <= palette for a in attempts)
        if phrase >= 500:
            handed.add(_targets_of(attempts, "a0")[0])
            best.add(ensemble.greedy("a2"))
    assert len(handed) > 20 and len(best) > 1  # after 500 phrases it still moves


def test_an_agent_copying_itself_settles_on_its_own_melody():
    ensemble = Chain(SEED_MELODY, seed=8)
    ensemble.spawn(1)
    ensemble.follow("a0", "a0")
    for _ in range(100):
        ensemble.step()
    last = ensemble.greedy("a0")
    attempts = ensemble.step()
    assert attempts[0].target == last

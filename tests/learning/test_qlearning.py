import numpy as np

from ensemble.learning.qlearning import QBank
from ensemble.learning.settings import LearningSettings
from ensemble.melody import REST, Melody

TARGET = np.array([Melody.parse("C4 E4 G4 E4 C4").notes])
CHROMATIC = LearningSettings().changed({"palette": "chromatic:C4-B4", "rests": "off"})


def _learn(hyper, attempts=60, seed=0):
    bank = QBank(5, np.random.default_rng(seed))
    bank.add(hyper)
    history = [bank.attempt(TARGET, np.array([True]))[0] for _ in range(attempts)]
    return bank, history


def test_an_agent_learns_the_target():
    bank, history = _learn(CHROMATIC)
    assert bank.greedy().tolist() == TARGET.tolist()
    assert (history[-1] == TARGET).all()


def test_played_notes_come_from_the_palette():
    _, history = _learn(LearningSettings().changed({"palette": "pentatonic:C4-C5", "epsilon": "1"}), 30)
    allowed = set(LearningSettings().changed({"palette": "pentatonic:C4-C5"}).actions)
    assert set(np.concatenate(history).ravel().tolist()) <= allowed


def test_epsilon_decays_to_its_floor():
    bank, _ = _learn(CHROMATIC.changed({"epsilon": "1", "epsilon_decay": "0.5", "epsilon_min": "0.1"}), 10)
    assert bank.epsilon[0] == 0.1


def test_an_epsilon_set_below_the_floor_stays_there():
    bank, history = _learn(CHROMATIC.changed({"epsilon": "0", "epsilon_min": "0.2", "alpha": "1"}), 40)
    assert bank.epsilon[0] == 0.0
    assert all((attempt == TARGET).all() for attempt in history[14:])  # no exploration after finding it


def test_inactive_agents_do_not_learn():
    bank = QBank(5, np.random.default_rng(0))
    bank.add(CHROMATIC)
    before = bank.q.copy()
    bank.attempt(TARGET, np.array([False]))
    assert np.array_equal(before, bank.q)


def test_same_seed_same_learning():
    _, first = _learn(CHROMATIC, 20, seed=7)
    _, again = _learn(CHROMATIC, 20, seed=7)
    _, other = _learn(CHROMATIC, 20, seed=8)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_a_new_palette_keeps_what_still_fits():
    bank, _ = _learn(CHROMATIC)
    bank.configure(0, CHROMATIC.changed({"palette": "major:C4-C5"}))  # C, E, G are still there
    assert bank.greedy().tolist() == TARGET.tolist()
    assert REST not in bank.notes[0].tolist()  # rests stay off


def test_optimistic_init_starts_high():
    bank = QBank(3, np.random.default_rng(0))
    bank.add(LearningSettings().changed({"init": "optimistic"}))
    assert np.allclose(bank.q[0][:, : bank.n_actions[0]], 1.0)


def test_resizing_steps_keeps_the_learned_ones():
    bank, _ = _learn(CHROMATIC)
    bank.resize_steps(7)
    assert bank.q.shape[1] == 7
    assert bank.greedy()[0, :5].tolist() == TARGET[0].tolist()
    bank.resize_steps(2)
    assert bank.greedy()[0].tolist() == [60, 64]


def test_forget_starts_an_agent_over():
    bank, _ = _learn(CHROMATIC.changed({"epsilon": "0.5"}))
    bank.forget(0)
    assert np.all(bank.q[0] == 0.0) and bank.epsilon[0] == 0.5


def test_removing_an_agent_keeps_the_others_learning():
    bank = QBank(5, np.random.default_rng(0))
    for _ in range(3):
        bank.add(CHROMATIC)
    for _ in range(40):
        bank.attempt(np.repeat(TARGET, 3, axis=0), np.ones(3, dtype=bool))
    bank.remove(1)
    assert len(bank) == 2 and bank.q.shape[0] == 2
    assert bank.greedy().tolist() == np.repeat(TARGET, 2, axis=0).tolist()

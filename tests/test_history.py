import gc
import tracemalloc

import numpy as np

from ensemble import commands as cmd
from ensemble.history import HELD_PHRASES, RECENT_ATTEMPTS, Column, History
from ensemble.learning.chain import Attempt, accuracy
from ensemble.session import Session


class Everything:
    """Observes a session and keeps every attempt of every phrase: the record the history no
    longer keeps, to check what it keeps against."""

    def __init__(self, session):
        self.session = session
        self.phrases = []  # (attempts, the seed melody, who was muted)
        session.observe(self)

    def applied(self, phrase, beat, command):
        pass

    def composed(self, phrase, attempts):
        self.phrases.append((attempts, self.session.chain.melody.notes, frozenset(self.session.muted)))


def _busy_show(phrases, seed=3):
    """Agents spawned, killed, muted and re-seeded (another length too), some practising."""
    session = Session(seed=seed)
    everything = Everything(session)
    for line in ("seed C4 E4 G4", "set all epsilon=0.2 alpha=0.9", "spawn 3", "set a1 practice=2"):
        session.submit(cmd.parse_command(line))
    plan = {5: ["mute a1"], 9: ["spawn 2"], 14: ["kill a2", "unmute all"], 20: ["seed C4 E4 G4 C5 _"],
            26: ["solo a0"], 31: ["follow a3 seed", "unmute a4"], 40: ["seed C4 E4 G4 C5 G4 E4 C4 _"]}
    for phrase in range(phrases):
        for line in plan.get(phrase, []):
            session.submit(cmd.parse_command(line))
        session.next_phrase()
    return session, everything


def test_a_column_grows_by_chunks_and_keeps_every_value_in_order():
    column = Column(np.uint8)
    for value in range(1000):
        column.append(value % 200)
    assert len(column) == 1000
    assert column.values().tolist() == [value % 200 for value in range(1000)]


def test_a_column_widens_rather_than_wrapping_round():
    column = Column(np.uint16)
    for value in (3, 65535, 70000, 5):
        column.append(value)
    assert column.values().tolist() == [3, 65535, 70000, 5]


def test_the_scores_are_those_of_every_heard_attempt():
    session, everything = _busy_show(60)
    agents = list(dict.fromkeys(a.agent for attempts, _, _ in everything.phrases for a in attempts))
    assert session.history.agents == agents == ["a0", "a1", "a2", "a3", "a4"]
    for name in agents:
        expected = [(index, a.accuracy, a.played == seed, name in muted)
                    for index, (attempts, seed, muted) in enumerate(everything.phrases)
                    for a in attempts if a.agent == name and a.heard]
        scores = session.history.scores(name)
        got = list(zip(scores.phrase.tolist(), scores.accuracy.tolist(), scores.as_seed.tolist(),
                       scores.muted.tolist(), strict=True))
        assert got == expected  # the very floats: the report's figures cannot move
    assert any(session.history.scores("a0").as_seed) and any(session.history.scores("a1").muted)
    assert len(session.history.scores("a9")) == 0


def test_accuracy_is_the_same_float_as_accuracy_gives():
    history = History()
    played, target = (60, 62, 64, 65, 67, 69, 71), (60, 62, 64, 0, 0, 0, 0)
    history.record([Attempt("a0", target, played, 0.0, True)], target, set())
    assert history.scores("a0").accuracy.tolist() == [accuracy(played, target)]


def test_melodies_are_held_for_the_last_phrases_only():
    session, everything = _busy_show(HELD_PHRASES + 30)
    history = session.history
    assert history.phrases == HELD_PHRASES + 30 and history.first_held == 30
    heard = [[a for a in attempts if a.heard] for attempts, _, _ in everything.phrases]
    assert history.attempts == heard[30:]
    muted = [quiet & {a.agent for a in attempts} for attempts, _, quiet in everything.phrases[30:]]
    assert [phrase.muted_names() for phrase in history.held] == muted
    assert history.last == everything.phrases[-1][0]  # the last phrase whole, practice too
    assert any(not a.heard for a in history.last)
    assert history.steps().tolist() == [len(attempts[0].played) for attempts, _, _ in everything.phrases]


def test_recent_attempts_are_held_per_agent_and_dropped_with_the_agent():
    session, everything = _busy_show(50)
    mine = [a for attempts, _, _ in everything.phrases for a in attempts if a.agent == "a3" and a.heard]
    assert session.history.recent("a3", 3) == mine[-3:]
    assert session.history.recent("a3", 100) == mine[-RECENT_ATTEMPTS:]
    assert session.history.recent("a2", 3) == []  # killed at phrase 15


def _bytes_held(history, phrases, agents=64, steps=8):
    rng = np.random.default_rng(0)
    seed = tuple(range(60, 60 + steps))
    names = [f"a{k}" for k in range(agents)]
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(phrases):
        played = rng.integers(58, 70, size=(agents, steps)).tolist()
        attempts = [Attempt(name, seed, tuple(p), 0.5, True) for name, p in zip(names, played, strict=True)]
        history.record(attempts, seed, {"a3"})
    gc.collect()
    return tracemalloc.get_traced_memory()[0] - before


def test_a_long_show_at_64_agents_adds_a_few_hundred_bytes_a_phrase():
    history = History()
    tracemalloc.start()
    try:
        _bytes_held(history, HELD_PHRASES + 100)  # the held melodies fill up first
        grown = _bytes_held(history, 3000)
    finally:
        tracemalloc.stop()
    assert grown / 3000 < 400  # 64 x (2 + 1) bytes of scores, 2 of steps, and chunks filling up
    assert len(history.scores("a5")) == HELD_PHRASES + 3100

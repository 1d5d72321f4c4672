import threading
import time

import pytest

from ensemble import commands as cmd
from ensemble.errors import UserError
from ensemble.melody import Melody
from ensemble.session import Session


def test_commands_wait_for_the_next_phrase():
    session = Session(seed=1)
    session.submit(cmd.Spawn(2))
    assert session.ensemble.names == []  # nothing changes until the boundary
    phrase = session.next_phrase()
    assert [part.agent for part in phrase.parts] == ["a0", "a1"]


def test_phrases_follow_each_other_in_beats_and_carry_the_tempo():
    session = Session()
    session.submit(cmd.Seed(Melody.parse("C4 D4 E4 F4")))
    session.submit(cmd.Spawn(1))
    first = session.next_phrase()
    session.submit(cmd.Tempo(90))
    session.submit(cmd.Step(0.25))
    second = session.next_phrase()
    assert (first.start_beat, first.beats, first.tempo) == (0.0, 2.0, 120.0)
    assert (second.start_beat, second.beats, second.tempo) == (2.0, 1.0, 90.0)
    assert session.seconds(second.start_beat) == 1.0


def test_a_bad_command_is_reported_and_the_others_still_apply():
    messages = []
    session = Session(on_message=messages.append)
    session.submit(cmd.Set("a7", {"alpha": "0.1"}))
    session.submit(cmd.Spawn(1))
    phrase = session.next_phrase()
    assert messages == ["set a7 alpha=0.1: no agent 'a7' (agents: none yet: spawn some)"]
    assert [part.agent for part in phrase.parts] == ["a0"]


def test_commands_can_come_from_another_thread():
    session = Session()
    threads = [threading.Thread(target=session.submit, args=(cmd.Spawn(1),)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(session.next_phrase().parts) == 8


def test_wait_belongs_to_scripts():
    with pytest.raises(UserError, match="only makes sense in a script"):
        Session().submit(cmd.Wait(2))


def _session_with(agents):
    session = Session(seed=2)
    session.submit(cmd.Spawn(agents))
    session.next_phrase()
    return session


def _heard(session):
    return [part.agent for part in session.next_phrase().parts]


def test_mute_unmute_and_solo_change_who_is_heard_not_who_learns():
    session = _session_with(3)
    session.submit(cmd.Mute("a1"))
    assert _heard(session) == ["a0", "a2"]
    assert {a.agent for a in session.history.attempts[-1]} == {"a0", "a1", "a2"}  # a1 still learns
    session.submit(cmd.Solo("a2"))
    assert _heard(session) == ["a2"]
    session.submit(cmd.Unmute("all"))
    assert _heard(session) == ["a0", "a1", "a2"]


def test_kill_rewires_the_chain_around_the_agent():
    session = _session_with(3)
    session.submit(cmd.Kill("a1"))
    assert _heard(session) == ["a0", "a2"]
    assert session.ensemble.follows == {"a0": "seed", "a2": "a0"}


def test_follow_voice_train_and_forget():
    session = _session_with(2)
    session.submit(cmd.Follow("a1", "seed"))
    session.submit(cmd.Voice("all", "tri"))
    session.submit(cmd.Train("a0", 30))
    session.next_phrase()
    assert session.ensemble.follows["a1"] == "seed"
    assert {p.sound.voice for p in session.next_phrase().parts} == {"tri"}
    assert session.history.practice == 30
    assert session.ensemble.greedy("a0") == session.ensemble.melody.notes  # trained to the seed
    session.submit(cmd.Forget("a0"))
    session.next_phrase()
    assert session.ensemble.epsilon("a0") < 1.0


def test_follow_checks_both_agents_and_refuses_a_loop_onto_itself():
    session = _session_with(2)
    for bad in (cmd.Follow("a1", "a9"), cmd.Follow("a7", "a0"), cmd.Follow("a1", "a1")):
        with pytest.raises(UserError):
            session.apply(bad)


def test_recent_attempts_are_the_last_ones_in_order():
    session = _session_with(2)
    for _ in range(5):
        session.next_phrase()
    heard = [a for phrase in session.history.attempts for a in phrase if a.agent == "a1" and a.heard]
    assert session.history.recent("a1", 3) == heard[-3:]


def test_a_command_submitted_while_a_phrase_is_composed_lands_where_it_is_announced():
    session = _session_with(2)
    started, announced = threading.Event(), []
    original = session.ensemble.step

    def slow_step():
        started.set()
        time.sleep(0.05)  # the learning for 64 agents takes a few milliseconds
        return original()

    session.ensemble.step = slow_step
    composer = threading.Thread(target=session.next_phrase)
    composer.start()
    started.wait()
    announced.append(session.submit_for_next(cmd.Tempo(90))[0])
    composer.join()
    session.ensemble.step = original
    phrase = session.next_phrase()
    assert phrase.index == announced[0] and phrase.tempo == 90


def test_listening_agents_hear_each_step_as_long_as_it_is_played():
    session = Session()
    session.submit(cmd.Tempo(90.0))
    session.submit(cmd.Step(0.25))
    session.next_phrase()
    assert session.ensemble.step_seconds == pytest.approx(0.25 * 60 / 90)

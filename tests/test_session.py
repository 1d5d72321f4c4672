import threading

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

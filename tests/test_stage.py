"""The stage without a terminal: what the REPL shows is read from snapshots, never the live chain."""

import threading

from ensemble import commands as cmd
from ensemble.clock import VirtualClock
from ensemble.stage import Stage

READS = 20_000


def test_toolbar_and_status_survive_spawn_and_kill_churn_on_the_composing_thread():
    stage = Stage([], VirtualClock())
    session = stage.session
    session.submit(cmd.Spawn(4))
    session.next_phrase()
    done = threading.Event()
    composed = []

    def churn():  # what the conductor's thread does while the performer watches
        number = 4
        while not done.is_set():
            session.submit(cmd.Spawn(3))
            session.submit(cmd.Kill(f"a{number - 4}"))
            session.submit(cmd.Kill(f"a{number - 3}"))
            number += 3
            session.next_phrase()
            composed.append(1)

    composer = threading.Thread(target=churn)
    composer.start()
    errors = []
    try:
        for _ in range(READS // 2):
            for read in (stage.toolbar, stage.status):
                try:
                    read()
                except Exception as error:
                    errors.append(error)
            stage.context()
    finally:
        done.set()
        composer.join(timeout=30)
    assert not composer.is_alive()
    assert errors == []
    assert len(composed) > 50  # the chain really changed under the readers


def test_status_and_toolbar_show_the_agents():
    stage = Stage([], VirtualClock())
    for line in ("spawn 2", "mute a1", "set a0 alpha=0.9"):
        stage.session.submit(cmd.parse_command(line))
    stage.session.next_phrase()
    status = stage.status().splitlines()
    assert status[0].split() == ["agent", "copies", "last", "attempt", "vs", "target", "vs", "seed",
                                 "epsilon", "heard", "settings"]
    assert status[1].split()[:2] == ["a0", "seed"] and "alpha=0.9" in status[1]
    assert "muted" in status[2]
    assert status[-1] == "seed: C4 E4 G4 E4 C4"
    toolbar = stage.toolbar()
    assert toolbar.startswith("120 bpm | phrase 0 | a0 ") and "a1 (muted)" in toolbar and " s" in toolbar
    stage.session.submit(cmd.Spawn(1))
    assert "pending 1" in stage.toolbar() and stage.status().splitlines()[-1] == "pending: spawn 1"


def test_typed_agent_names_are_checked_against_the_agents_there_will_be():
    stage = Stage([], VirtualClock())
    assert stage.type("spawn 2").startswith("spawn 2: at phrase 1")
    assert stage.type("mute a1").startswith("mute a1: at phrase 1")  # a1 is on its way
    assert stage.type("kill a5") == "no agent 'a5' (agents: a0, a1)"
    assert stage.type("status") == "no agents yet: spawn some"
    assert stage.type("wait 2").startswith("'wait' is for scripts")
    assert "set AGENT|all KEY=VALUE" in stage.type("help") and "alpha:" in stage.type("help set")


def test_sound_commands_apply_at_once_learning_ones_at_the_boundary():
    stage = Stage([], VirtualClock())
    stage.session.submit(cmd.Spawn(2))
    stage.session.next_phrase()
    assert stage.type("mute a1") == "mute a1: now (heard within 0.15 s)"
    assert stage.session.mix.muted == {"a1"} and stage.snapshot.agents[1].muted
    assert stage.type("set a0 amp=0.5 pan=-1") == "set a0 amp=0.5 pan=-1: now (heard within 0.15 s)"
    assert stage.session.mix.sounds["a0"][0].amp == 0.5
    assert stage.type("set a0 alpha=0.9").startswith("set a0 alpha=0.9: at phrase 2")  # learning waits
    assert stage.type("spawn 1").startswith("spawn 1: at phrase 2")
    assert stage.type("mute a2").startswith("mute a2: at phrase 2")  # a2 is not there yet: it waits too
    phrase = stage.session.next_phrase()
    assert [part.agent for part in phrase.parts] == ["a0"]
    assert [part.agent for part in phrase.silent] == ["a1", "a2"]


def test_a_journal_of_commands_applied_at_once_replays_the_same_attempts(tmp_path):
    from ensemble.performance.journal import read_journal
    from ensemble.performance.sources import journal_source
    from ensemble.session import Session

    stage = Stage([], VirtualClock())
    stage.type(f"record on {tmp_path / 'j.jsonl'}")
    for line in ("spawn 3", "set all reward=near"):
        stage.session.submit(cmd.parse_command(line))
    for typed in ("mute a1", "voice a2 square", "solo a0", "unmute all", "set a1 velocity=60"):
        stage.session.next_phrase()
        assert "now" in stage.type(typed)
    stage.session.next_phrase()
    stage.type("record off")
    replay = Session(seed=0)
    list(journal_source(read_journal(tmp_path / "j.jsonl")).play(replay))
    played = [[(a.agent, a.played) for a in phrase] for phrase in stage.session.history.attempts]
    assert [[(a.agent, a.played) for a in phrase] for phrase in replay.history.attempts] == played
    assert replay.muted == stage.session.muted and replay.voicing("a2").voice == "square"


def test_the_toolbar_shows_when_a_recording_runs(tmp_path):
    stage = Stage([], VirtualClock())
    assert "REC" not in stage.toolbar()
    stage.type(f"record on {tmp_path / 'r.jsonl'}")
    assert " | REC" in stage.toolbar()
    stage.type("record off")
    assert "REC" not in stage.toolbar()


def test_an_agent_that_cannot_reach_its_target_is_named_once_with_a_fix():
    from support.messages import captured

    stage = Stage([], VirtualClock())
    for line in ("seed C4 D#4 G4 _", "spawn 2", "set a0 rests=off"):
        stage.session.submit(cmd.parse_command(line))
    with captured() as messages:
        for _ in range(3):
            stage.session.next_phrase()
    assert messages.warnings() == [
        "a0 cannot reach its target: _ D#4 not in its palette major:C4-C5 without rests "
        "(set a0 palette=chromatic:C4-C5 rests=on)"]


def test_load_plays_a_scripts_commands_into_the_performance_with_its_waits(tmp_path):
    (tmp_path / "more.ens").write_text("spawn 2\nwait 2\nmute a1\nseed C4 G4\n")
    stage = Stage([], VirtualClock())
    assert stage.type(f"load {tmp_path / 'more.ens'}") == (
        f"load {tmp_path / 'more.ens'}: 3 commands, 2 phrases of waiting, from now")
    import time

    deadline = time.monotonic() + 10
    while not stage.session.muted and time.monotonic() < deadline:
        stage.session.next_phrase()
        time.sleep(0.01)
    assert stage.session.muted == {"a1"}
    assert stage.session.snapshot.phrase >= 2  # not before its two phrases of waiting
    while str(stage.session.chain.melody) != "C4 G4" and time.monotonic() < deadline:
        stage.session.next_phrase()
        time.sleep(0.01)
    assert str(stage.session.chain.melody) == "C4 G4"
    (tmp_path / "bad.ens").write_text("spawn 1\nstatus\n")
    reply = stage.type(f"load {tmp_path / 'bad.ens'}")
    assert reply.endswith("bad.ens:2: 'status' is for the REPL; scripts cannot use it")


def test_seed_midi_without_a_midi_input_says_how_to_get_one():
    stage = Stage([], VirtualClock())
    needs = "seed midi needs a MIDI input: a live performance with --midi-in [PORT]"
    assert stage.type("seed midi 8") == needs
    assert stage.type("seed midi") == "usage: seed midi N|follow|off"


def test_link_on_without_the_extra_is_one_line_saying_how_to_install_it(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "aalink", None)  # `import aalink` raises ImportError
    stage = Stage([], VirtualClock())
    install = "Ableton Link needs the optional extra: pip install 'ensemble[link]' (aalink, GPL)"
    assert stage.type("link on") == install
    assert stage.type("link off") == "Link is off already"


def test_peer_commands_need_a_laptop_that_listens():
    stage = Stage([], VirtualClock())
    for line in ("peers", "peer add 10.77.0.3:7400"):
        assert stage.type(line) == "no other laptops: start with --listen HOST:PORT (and --peer HOST:PORT)"
    assert stage.type("peer add 10.77.0.3") == "'10.77.0.3' is not HOST:PORT (e.g. 10.0.0.2:7400)"
    stage.type("spawn 1")
    assert stage.type("follow a0 alice/a3") == (
        "alice/a3 is on another laptop: start with --listen HOST:PORT (and --peer HOST:PORT)")


def test_peers_are_added_removed_shown_and_followed():
    from support.laptops import Laptops

    from ensemble.peers.band import Band

    with Laptops(["alice", "bob"]) as lan:
        alice, bob = lan["alice"], lan["bob"]
        band = alice.call(lambda: Band("alice", (alice.address, 7400), [], None))
        try:
            stage = Stage([], VirtualClock(), band=band)
            where = f"{bob.address}:7400"
            assert stage.type(f"peer add {where}") == (
                f"peer {where} added: we share with it, and take what it shares")
            assert stage.type(f"peer add {where}") == f"peer {where} is listed already"
            assert stage.type("peers").splitlines() == [f"alice, listening on {alice.address}:7400",
                                                        f"  ? at {where}: never heard"]
            answer = stage.type("spawn 2 follow bob/a0")
            assert answer.startswith("spawn 2 follow bob/a0: at phrase 1")
            assert answer.endswith(" (nothing heard of bob/a0 yet: until then it copies the seed)")
            assert stage.type("follow a3 bob/a0") == "no agent 'a3' (agents: a0, a1)"
            assert f"peers {where}(quiet)" in stage.toolbar()
            stage.session.next_phrase()
            assert stage.session.chain.follows == {"a0": "bob/a0", "a1": "a0"}
            assert stage.type(f"peer remove {where}") == (
                f"peer {where} removed: its followers here keep its last melody")
            assert stage.type(f"peer remove {where}") == f"no peer {where} (peers: none)"
        finally:
            band.close()


def test_the_toolbar_shows_how_far_each_agent_drifted_from_the_seed():
    stage = Stage([], VirtualClock())
    for line in ("seed C4 E4 G4 C5", "spawn 1", "set a0 epsilon=0 prior=repeat handoff=after:3"):
        stage.session.submit(cmd.parse_command(line))
    for _ in range(40):
        stage.session.next_phrase()
    assert " d" not in stage.toolbar().split("a0")[1]  # the seed exactly: no drift shown
    assert "prior=repeat prior_strength=0.5 handoff=after:3" in stage.status()
    stage.session.submit(cmd.parse_command("transpose 5"))  # F4 A4 C5 F5: a0 still plays C4 E4 G4 C5
    stage.session.next_phrase()
    assert " d1.00" in stage.toolbar()  # every step of its last attempt is off the new seed

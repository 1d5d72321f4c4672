import threading
import time

import pytest
from support.messages import captured
from support.waiting import join

from ensemble import commands as cmd
from ensemble import session as session_module
from ensemble.errors import UserError
from ensemble.melody import Melody
from ensemble.session import Session


def test_commands_wait_for_the_next_phrase():
    session = Session(seed=1)
    session.submit(cmd.Spawn(2))
    assert session.chain.names == []  # nothing changes until the boundary
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
    session = Session()
    session.submit(cmd.Set("a7", {"alpha": "0.1"}))
    session.submit(cmd.Spawn(1))
    with captured() as messages:
        phrase = session.next_phrase()
    assert messages == ["set a7 alpha=0.1: no agent 'a7' (agents: none yet: spawn some)"]
    assert [part.agent for part in phrase.parts] == ["a0"]


def test_commands_can_come_from_another_thread():
    session = Session()
    threads = [threading.Thread(target=session.submit, args=(cmd.Spawn(1),)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        join(thread, 10, "a submitting thread")
    assert len(session.next_phrase().parts) == 8


def test_wait_belongs_to_scripts():
    with pytest.raises(UserError, match="not about the performance"):
        Session().submit(cmd.Wait(2))


def test_every_performance_command_has_a_handler_and_no_other_does():
    for name, declared in cmd.COMMANDS.items():
        allowed_in_journals = bool(declared.where & cmd.Where.JOURNAL)
        # `seed midi` lands on a boundary as the others do, and is journaled as the seed it captured
        performance = allowed_in_journals or declared is cmd.SeedMidi
        assert (declared in session_module.handles) == performance, name


def test_a_rehearsal_names_the_line_that_fails():
    session = Session(strict=True)
    session.submit(cmd.Spawn(1), where="show.ens:3")
    session.submit(cmd.Kill("a4"), where="show.ens:4")
    with pytest.raises(UserError, match=r"^show.ens:4: no agent 'a4'"):
        session.next_phrase()


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
    assert session.chain.follows == {"a0": "seed", "a2": "a0"}


def test_follow_voice_train_and_forget():
    session = _session_with(2)
    session.submit(cmd.Follow("a1", "seed"))
    session.submit(cmd.Voice("all", "tri"))
    session.submit(cmd.Train("a0", 30))
    session.next_phrase()
    assert session.chain.follows["a1"] == "seed"
    assert {p.sound.voice for p in session.next_phrase().parts} == {"tri"}
    assert session.history.practice == 30
    assert session.chain.greedy("a0") == session.chain.melody.notes  # trained to the seed
    session.submit(cmd.Forget("a0"))
    session.next_phrase()
    assert session.chain.epsilon("a0") < 1.0


def test_follow_checks_both_agents_and_an_agent_may_copy_itself():
    session = _session_with(2)
    for bad in (cmd.Follow("a1", "a9"), cmd.Follow("a7", "a0")):
        with pytest.raises(UserError):
            session.apply(bad)
    session.apply(cmd.Follow("a1", "a1"))  # the control condition: one learner re-copying itself
    assert session.chain.follows["a1"] == "a1"


def test_recent_attempts_are_the_last_ones_in_order():
    session = _session_with(2)
    for _ in range(5):
        session.next_phrase()
    heard = [a for phrase in session.history.attempts for a in phrase if a.agent == "a1" and a.heard]
    assert session.history.recent("a1", 3) == heard[-3:]


def test_a_command_submitted_while_a_phrase_is_composed_lands_where_it_is_announced():
    session = _session_with(2)
    started, announced = threading.Event(), []
    original = session.chain.step

    def slow_step():
        started.set()
        time.sleep(0.05)  # the learning for 64 agents takes a few milliseconds
        return original()

    session.chain.step = slow_step
    composer = threading.Thread(target=session.next_phrase)
    composer.start()
    assert started.wait(10), "the phrase never started composing"
    announced.append(session.submit_for_next(cmd.Tempo(90))[0])
    join(composer, 10, "the composing thread")
    session.chain.step = original
    phrase = session.next_phrase()
    assert phrase.index == announced[0] and phrase.tempo == 90


def test_set_keeps_learning_and_voice_apart_and_all_reaches_agents_spawned_later():
    session = _session_with(2)
    session.submit(cmd.parse_command("set all alpha=0.9 voice=tri channel=5"))
    session.submit(cmd.Spawn(1))
    phrase = session.next_phrase()
    assert [session.chain.settings(name).alpha for name in session.chain.names] == [0.9] * 3
    assert [(part.sound.voice, part.sound.channel) for part in phrase.parts] == [("tri", 5)] * 3


def test_a_failed_set_changes_neither_learning_nor_voice():
    session = _session_with(1)
    with pytest.raises(UserError):
        session.apply(cmd.Set("a0", {"alpha": "0.9", "voice": "tri", "reward": "listen"}))  # no ear here
    assert session.chain.settings("a0").alpha == 0.5 and session.voicing("a0").voice == "saw"


def test_the_snapshot_shows_agents_pending_commands_and_expected_agents():
    session = _session_with(2)
    assert session.snapshot.names == ("a0", "a1") and session.snapshot.phrase == 1
    session.submit(cmd.Spawn(2))
    session.submit(cmd.Kill("a0"))
    assert session.snapshot.pending == ("spawn 2", "kill a0")
    assert session.expected_agents() == ["a1", "a2", "a3"]
    session.next_phrase()
    snapshot = session.snapshot
    assert snapshot.names == ("a1", "a2", "a3") and snapshot.pending == ()
    assert snapshot.agents[0].copies == "seed" and len(snapshot.agents[0].recent) == 2


# -- listening agents (the real Glicol engine renders what they hear) ------------------------


def _listening(seed, *lines):
    from ensemble.listening.ear import Ear

    session = Session(seed=seed, ear=Ear)
    for line in lines:
        session.submit(cmd.parse_command(line))
    return session


@pytest.mark.usefixtures("glicol")
def test_a_chain_can_mix_listening_and_symbolic_agents():
    session = _listening(2, "seed C4 E4 G4 C5 G4 E4", "spawn 3", "set all palette=chromatic:C4-C5 rests=off",
                         "set a1 reward=listen voice=tri", "set a0 voice=square")
    for _ in range(60):
        session.next_phrase()
    attempts = {a.agent: a for a in session.history.attempts[-1]}
    assert all(session.chain.greedy(name) == session.chain.melody.notes for name in session.chain.names)
    assert attempts["a0"].reward == 1.0  # symbolic: a hit is worth exactly 1
    assert 0.5 < attempts["a1"].reward < 0.99  # a triangle hears a square: alike, never the same


@pytest.mark.usefixtures("glicol")
def test_listening_agents_hear_each_step_as_long_as_it_is_played():
    session = _listening(0, "spawn 1", "set a0 reward=listen")
    session.next_phrase()
    renders = session._ear.renders
    session.submit(cmd.Tempo(90.0))
    session.submit(cmd.Step(0.25))
    session.next_phrase()
    assert session._step_seconds == pytest.approx(0.25 * 60 / 90)
    assert session._ear.renders - renders >= 2  # the new length is rendered anew


def test_without_the_engine_listening_is_refused_and_nothing_changes(monkeypatch, tmp_path):
    from ensemble.glicol import fetch
    from ensemble.glicol.engine import shared_module

    monkeypatch.setenv(fetch.WASM_ENV, str(tmp_path / "missing.wasm"))
    shared_module.cache_clear()
    try:
        session = _listening(0, "spawn 2")
        session.next_phrase()
        with pytest.raises(UserError, match=r"missing\.wasm"):
            session.apply(cmd.parse_command("set all reward=listen alpha=0.9"))
        assert session.chain.settings("a0").reward == "exact" and session.chain.defaults.alpha == 0.5
        session.next_phrase()  # and the music goes on
    finally:
        shared_module.cache_clear()


@pytest.mark.usefixtures("glicol")
def test_listening_is_as_deterministic_as_the_rest_so_journals_replay():
    def attempts():
        session = _listening(4, "seed C4 E4 G4 C5 G4 E4", "spawn 2", "set all reward=listen epsilon=0.5",
                             "set a1 voice=square")
        for _ in range(15):
            session.next_phrase()
        return [(a.agent, a.played, a.reward) for phrase in session.history.attempts for a in phrase]

    first, second = attempts(), attempts()
    assert first == second
    assert len({reward for _, _, reward in first}) > 5  # graded rewards, not just hits and misses


def test_with_rhythm_every_part_is_laid_on_the_seeds_length():
    session = Session(seed=2)
    for line in ("seed C4:1 E4:0.5 G4:0.5 _:1 A4:2", "spawn 3", "set a1 rhythm=0.5,1,2", "set a2 rhythm=2,4"):
        session.submit(cmd.parse_command(line))
    for _ in range(5):
        phrase = session.next_phrase()
        assert phrase.rhythmic and phrase.beats == 5.0
        for part in phrase.parts:
            assert part.lengths is not None and sum(part.lengths) == 5.0  # cut or filled to the grid
            assert len(part.lengths) == len(part.notes)
    assert session.beat == 25.0
    events = [e for e in phrase.events() if e.agent == "a0"]
    assert all(e.duration == 0.5 for e in events)  # a0 plays steps: its rhythm palette is the default


def test_a_melody_of_steps_makes_the_phrases_it_always_made():
    session = Session(seed=2)
    session.submit(cmd.parse_command("spawn 2"))
    phrase = session.next_phrase()
    assert not phrase.rhythmic and all(part.lengths is None for part in phrase.parts)


def test_lengths_need_a_step_on_their_grid():
    session = Session(seed=2, strict=True)
    session.submit(cmd.parse_command("step 0.3"))
    session.submit(cmd.parse_command("seed C4:1 E4"))
    grid = r"a seed with lengths needs a step on the grid of lengths \(step is 0\.3"
    with pytest.raises(UserError, match=grid):
        session.next_phrase()


class Laptops:
    """The other laptops as the session sees them (ensemble.peers.band.Band's two calls): what
    they shared, by our beat, and what we shared."""

    def __init__(self, heard):
        self.heard = heard  # our beat -> {alice/a3: melody}, as a band would give for that phrase
        self.asked, self.shared = [], []

    def take(self, beat, wanted):
        self.asked.append((beat, set(wanted)))
        return {target: melody for target, melody in self.heard.get(beat, {}).items() if target in wanted}

    def share(self, beat, melodies):
        self.shared.append((beat, melodies))


class Journal:
    def __init__(self):
        self.lines = []

    def applied(self, phrase, beat, command):
        self.lines.append((phrase, str(command)))

    def composed(self, phrase, attempts):
        pass


def test_what_other_laptops_share_is_taken_after_the_typed_commands_and_journaled():
    tune = Melody.parse("D4 G4 A4 B4 A4")
    session, journal = Session(seed=1), Journal()
    session.outside = laptops = Laptops({2.5: {"alice/a3": tune, "bob/a0": tune}})
    session.observe(journal)
    session.submit(cmd.Spawn(2))
    session.next_phrase()
    session.submit(cmd.Follow("a0", "alice/a3"))  # typed: its target is taken in the same phrase
    session.next_phrase()
    assert laptops.asked == [(0.0, set()), (2.5, {"alice/a3"})]
    assert journal.lines == [(0, "spawn 2"), (1, "follow a0 alice/a3"), (1, "heard alice/a3 D4 G4 A4 B4 A4")]
    assert session.history.recent("a0", 1)[0].target == tune.notes
    # what we shared: every agent's greedy melody, once a phrase, stamped with the phrase's beat
    assert [beat for beat, _ in laptops.shared] == [0.0, 2.5]
    assert laptops.shared[-1][1] == session.chain.greedy_melodies()


def test_a_journal_with_heard_lines_replays_the_same_without_the_network(tmp_path):
    from ensemble.performance.journal import Recorder, read_journal
    from ensemble.performance.sources import journal_source

    first, then = Melody.parse("D4 G4 A4 B4 A4"), Melody.parse("D4 G4 A4 A4 A4")
    session = Session(seed=4)
    session.outside = Laptops({2.5: {"alice/a3": first}, 7.5: {"alice/a3": then}})
    journal = Recorder(session).start(tmp_path / "bob.jsonl", ["glicol"])
    session.submit(cmd.Spawn(2, "follow", "alice/a3"))
    for _ in range(6):
        session.next_phrase()
    journal.close()
    recorded = read_journal(tmp_path / "bob.jsonl")
    assert recorded.warnings == []
    replay = Session(seed=recorded.seed)  # no laptops: what they shared is in the journal
    with captured() as messages:
        list(journal_source(recorded).play(replay))
    assert messages == []
    assert [[a.played for a in p] for p in replay.history.attempts] == \
           [[a.played for a in p] for p in session.history.attempts]
    assert replay.chain.outside == {"alice/a3": then}


def test_priors_hand_offs_and_transposes_change_the_music_and_replay_the_same(tmp_path):
    from ensemble.performance.journal import Recorder, read_journal
    from ensemble.performance.sources import journal_source

    def perform(lines, path=None):
        session = Session(seed=9)
        journal = Recorder(session).start(path, ["glicol"]) if path else None
        for line in lines:
            session.submit(cmd.parse_command(line))
        for phrase in range(30):
            if phrase == 15:
                session.submit(cmd.parse_command("transpose -3"))
            session.next_phrase()
        if journal:
            journal.close()
        return session

    plain = ["seed C4 G4 E4 C5 A4", "spawn 3"]
    evolving = [*plain, "set all prior=stepwise prior_strength=1.5 reward=near", "follow a0 a2",
                "set all handoff=after:4 handoff_as=sample"]
    original = perform(evolving, tmp_path / "evolving.jsonl")
    assert original.chain.melody == Melody.parse("A3 E4 C#4 A4 F#4")
    played = [[a.played for a in p] for p in original.history.attempts]
    assert played != [[a.played for a in p] for p in perform(plain).history.attempts]
    recorded = read_journal(tmp_path / "evolving.jsonl")
    replay = Session(seed=recorded.seed)
    with captured() as messages:
        list(journal_source(recorded).play(replay))
    assert messages == [] and [[a.played for a in p] for p in replay.history.attempts] == played

"""Scripts and journals replayed through the real session, every heard attempt measured: the
measures are those of the attempts the session made, the seed is noted whenever it changes,
and each agent's place in the chain follows the chain as it is rewired."""

import math

import pytest
from support.journals import record_laptop

from ensemble import measures
from ensemble.analysis.transcript import (
    FIDELITY,
    MEASURES,
    ONSETS,
    generations,
    measured,
    transcribe,
    transcribe_file,
)
from ensemble.errors import UserError
from ensemble.melody import Melody
from ensemble.performance.script import parse_script
from ensemble.performance.sources import script_source
from ensemble.session import Session

RESEEDED = """seed C4 E4 G4 C5
set all palette=major:C4-C5 epsilon=0.3
spawn 3
set a2 practice=2
wait 12
seed D4 F4 A4 D5 C5
wait 12
seed D4 F4 A4 D5 C5
wait 3
seed C4 E4 G4 C5
wait 5
"""


def _script(folder, text, name="s.ens"):
    path = folder / name
    path.write_text(text)
    return path


class _Heard:
    """Every heard attempt of every phrase, with the seed of its phrase: what the session made."""

    def __init__(self, session):
        self.session = session
        self.phrases = []

    def applied(self, phrase, beat, command):
        pass

    def composed(self, phrase, attempts):
        self.phrases.append((self.session.chain.melody, [a for a in attempts if a.heard]))


def _made(text, seed=0):
    source = script_source(parse_script(text), seed, "made")
    session = Session(seed=seed)
    heard = _Heard(session)
    session.observe(heard)
    for _ in source.play(session):
        pass
    return heard.phrases


def _same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


def _everything(transcript):
    """Every agent's every attempt, each measure with None for NaN (NaN equals nothing)."""
    return {name: (list(series.phrases), list(series.generations), series.copies,
                   {key: [None if math.isnan(v) else v for v in column]
                    for key, column in series.values.items()})
            for name, series in transcript.agents.items()}


def test_every_heard_attempt_is_measured_as_the_session_made_it(tmp_path):
    transcript = transcribe_file(_script(tmp_path, RESEEDED))
    made = _made(RESEEDED)
    assert transcript.phrases == len(made) == 32
    assert list(transcript.agents) == ["a0", "a1", "a2"]
    for name, series in transcript.agents.items():
        assert list(series.phrases) == list(range(32))  # one heard attempt a phrase, practice left out
        for index, (seed, attempts) in enumerate(made):
            attempt = next(a for a in attempts if a.agent == name)
            expected = measured(attempt, seed.notes)
            assert all(_same(series.values[m.key][index], expected[m.key]) for m in MEASURES)
            fidelity = measures.copy_fidelity(attempt.played, attempt.target)
            assert series.values[FIDELITY.key][index] == fidelity
    assert all(math.isnan(v) for series in transcript.agents.values() for v in series.values[ONSETS.key])
    assert not transcript.rhythmic


def test_the_seed_is_noted_whenever_it_changes_and_only_then(tmp_path):
    transcript = transcribe_file(_script(tmp_path, RESEEDED))
    assert [(change.phrase, str(change.melody)) for change in transcript.seeds] == [
        (0, "C4 E4 G4 C5"), (12, "D4 F4 A4 D5 C5"), (27, "C4 E4 G4 C5")]  # the same seed again: no change
    assert [change.phrase for change in transcript.perturbations()] == [12, 27]
    assert [(change.phrase, end) for change, end in transcript.spans()] == [(0, 12), (12, 27), (27, 32)]
    a0 = transcript.agents["a0"]
    assert a0.values["drift"][12] == measures.drift(_made(RESEEDED)[12][1][0].played, (62, 65, 69, 74, 72))


def test_recovery_after_each_change_of_the_seed(tmp_path):
    script = RESEEDED.replace("seed C4 E4 G4 C5\nwait 5", "spawn 1\nseed C4 E4 G4 C5\nwait 5")
    transcript = transcribe_file(_script(tmp_path, script))
    first, second = transcript.recoveries()
    assert first.change.phrase == 12 and second.change.phrase == 27
    assert list(first.fidelity) == list(first.to_seed) == ["a0", "a1", "a2"]
    assert list(second.fidelity) == ["a0", "a1", "a2"]  # a3 came with the change: it had no level before
    for recovery, until in ((first, 27), (second, 32)):
        at = recovery.change.phrase
        for name, attempts in recovery.fidelity.items():
            series = transcript.agents[name]
            assert attempts == measures.recovery(series.values[FIDELITY.key][:until], at)
            closeness = [1 - drift for drift in series.values["drift"][:until]]
            assert recovery.to_seed[name] == measures.recovery(closeness, at)
            assert recovery.watched[name] == until - at


def test_each_agent_s_place_follows_the_chain_as_it_is_rewired(tmp_path):
    script = "spawn 3\nwait 2\nfollow a2 seed\nwait 2\nkill a1\nwait 2\nspawn 1 follow alice/a3\nwait 1\n"
    transcript = transcribe_file(_script(tmp_path, script))
    a0, a1, a2, a3 = (transcript.agents[name] for name in ("a0", "a1", "a2", "a3"))
    assert list(a0.generations) == [1] * 7
    assert list(a1.generations) == [2] * 4 and len(a1) == 4  # killed after four phrases
    assert list(a2.generations) == [3, 3, 1, 1, 1, 1, 1]
    assert a2.copies == ["a1", "a1", "seed", "seed", "seed", "seed", "seed"]
    # An agent on another laptop that shared nothing yet: copied as the seed, at the head of a sub-chain.
    assert list(a3.phrases) == [6] and list(a3.generations) == [1] and a3.copies == ["alice/a3"]
    assert a3.values[FIDELITY.key][0] == 1 - a3.values["drift"][0]


def test_a_loop_the_seed_does_not_feed_counts_from_its_first_agent(tmp_path):
    transcript = transcribe_file(_script(tmp_path, "spawn 3\nwait 2\nfollow a0 a2\nwait 3\n"))
    assert [list(transcript.agents[name].generations) for name in ("a0", "a1", "a2")] == [
        [1] * 5, [2] * 5, [3] * 5]
    assert transcript.agents["a0"].copies == ["seed", "seed", "a2", "a2", "a2"]


@pytest.mark.parametrize(("follows", "places"), [
    ({"a0": "seed", "a1": "a0", "a2": "a1"}, {"a0": 1, "a1": 2, "a2": 3}),
    ({"a2": "a1", "a1": "a0", "a0": "seed"}, {"a0": 1, "a1": 2, "a2": 3}),  # in any order
    ({"a0": "seed", "a1": "a0", "a2": "a0"}, {"a0": 1, "a1": 2, "a2": 2}),  # a fork
    ({"a0": "bob/a1", "a1": "a0"}, {"a0": 1, "a1": 2}),  # led from another laptop
    ({"a0": "a2", "a1": "a0", "a2": "a1"}, {"a0": 1, "a1": 2, "a2": 3}),  # a loop: from its first-spawned
    ({"a1": "a0", "a2": "a1", "a0": "a2"}, {"a0": 1, "a1": 2, "a2": 3}),
    # a loop and a branch off it
    ({"a3": "a5", "a4": "a3", "a5": "a4", "a6": "a4"}, {"a3": 1, "a4": 2, "a5": 3, "a6": 3}),
    ({"a0": "a0", "a1": "a0"}, {"a0": 1, "a1": 2}),  # one re-copying itself, and one copying it
    ({}, {}),
])
def test_generations(follows, places):
    assert generations(follows) == places


def test_a_journal_gives_what_its_script_gives(tmp_path):
    script = _script(tmp_path, RESEEDED)
    journal = record_laptop(tmp_path / "take.jsonl", RESEEDED, clock_start=1000.0)
    from_script, from_journal = transcribe_file(script), transcribe_file(journal)
    assert from_journal.name == str(journal) and from_journal.phrases == from_script.phrases == 32
    assert from_journal.seeds == from_script.seeds
    assert _everything(from_journal) == _everything(from_script)


def test_with_lengths_the_onsets_are_measured(tmp_path):
    script = "seed C4:1 E4:0.5 G4:0.5 _:1 A4:2\nset all rhythm=0.5,1,2 epsilon=0.3\nspawn 2\nwait 10\n"
    transcript = transcribe_file(_script(tmp_path, script))
    assert transcript.rhythmic
    assert transcript.seeds[0].lengths == (16, 8, 8, 16, 32)
    for series in transcript.agents.values():
        assert all(0.0 <= v <= 1.0 for v in series.values[ONSETS.key])
    made = _made(script)
    attempt = made[9][1][1]
    expected = 1 - measures.onset_distance(attempt.played, attempt.lengths, attempt.target,
                                          attempt.target_lengths)
    assert transcript.agents["a1"].values[ONSETS.key][9] == expected


def test_a_script_s_seed_changes_what_is_played(tmp_path):
    path = _script(tmp_path, RESEEDED)
    assert _everything(transcribe_file(path, seed=0)) == _everything(transcribe_file(path))
    assert _everything(transcribe_file(path, seed=5)) != _everything(transcribe_file(path))


@pytest.mark.parametrize(("text", "said"), [
    ("spawn 1\nset a0 alpha=2\nwait 2\n", "bad.ens:2: alpha=2: allowed: a number from 0 to 1"),
    ("spawn 1\n", "bad.ens: nothing to play: the script has no `wait N` to let phrases pass"),
    ("spawn 1\nfollow a0 a7\nwait 1\n", "bad.ens:2: no agent 'a7' (agents: a0)"),
])
def test_a_bad_script_says_where(tmp_path, text, said):
    with pytest.raises(UserError) as raised:
        transcribe_file(_script(tmp_path, text, "bad.ens"))
    assert str(raised.value) == said.replace("bad.ens", str(tmp_path / "bad.ens"))


def test_a_journal_replays_with_its_own_seed_only(tmp_path):
    journal = record_laptop(tmp_path / "take.jsonl", RESEEDED, clock_start=1000.0, seed=3)
    assert transcribe_file(journal, seed=3).phrases == 32
    with pytest.raises(UserError, match="recorded with seed 3"):
        transcribe_file(journal, seed=4)


def test_a_missing_file_is_one_message(tmp_path):
    with pytest.raises(UserError, match="cannot read script"):
        transcribe_file(tmp_path / "nowhere.ens")


def test_a_source_is_transcribed_as_given():
    source = script_source(parse_script("seed C4 D4\nspawn 1\nwait 3\n"), 0, "inline")
    transcript = transcribe(source)
    assert transcript.name == "inline" and transcript.phrases == 3
    assert transcript.seeds[0].melody == Melody((60, 62))

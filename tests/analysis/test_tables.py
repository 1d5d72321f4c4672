"""The report as text, from transcripts made by hand so that every figure is known."""

import math

from ensemble.analysis.tables import MOST_CHANGES, agent_table, default_window, recovery_lines, report
from ensemble.analysis.transcript import MEASURES, SeedChange, Series, Transcript
from ensemble.melody import Melody

NAN = math.nan


def _add(series, phrase, generation, copies, **values):
    series.add(phrase, generation, copies, {m.key: values.get(m.key, NAN) for m in MEASURES})


def _two_agents():
    transcript = Transcript("show.ens", 4, [SeedChange(0, Melody((60, 62, 64)), None),
                                            SeedChange(2, Melody((62, 64, 66)), None)])
    a0, a1 = Series("a0"), Series("a1")
    transcript.agents.update(a1=a1, a0=a0)  # a1 first played first: the table goes by the chain
    for phrase in range(4):
        _add(a0, phrase, 1, "seed", fidelity=[0.25, 0.5, 0.75, 1.0][phrase], drift=[1, 0.5, 0.25, 0][phrase],
             pitches=[1, 2, 3, 3][phrase], interval=[NAN, 2, 2, 2][phrase], entropy=[NAN, 0, 0, 0][phrase],
             arch=[NAN, NAN, 1, 1][phrase])
    for phrase in range(1, 4):
        _add(a1, phrase, 2, "a0", fidelity=[0, 0.5, 1.0][phrase - 1], drift=1.0, pitches=2, interval=4,
             entropy=1, arch=-1)
    return transcript


def test_the_report_of_two_agents():
    assert report(_two_agents(), 2).splitlines() == [
        "show.ens: 4 phrases, 2 agents; each cell: its first 2 phrases → its last",
        "agent  gen  copies  phrases  fidelity   drift      pitches  |interval|  entropy    arch",
        "-----  ---  ------  -------  ---------  ---------  -------  ----------  ---------  -----------",
        "seed   0    -       1-4      -          -          3.0→3.0  2.0→2.0     0.00→0.00  0.00→0.00",
        "a0     1    seed    1-4      0.38→0.88  0.75→0.12  1.5→3.0  2.0→2.0     0.00→0.00  -→1.00",
        "a1     2    a0      2-4      0.25→0.75  1.00→1.00  2.0→2.0  4.0→4.0     1.00→1.00  -1.00→-1.00",
        "  fidelity: 1 - normalised edit distance of the pitches to its target",
        "  drift: normalised edit distance of the pitches from the seed",
        "  pitches: how many different pitches",
        "  |interval|: mean absolute interval, semitones (rests skipped)",
        "  entropy: entropy of the intervals, bits",
        "  arch: correlation of the pitch with an arch over the phrase, -1..1",
        "",
        "recovery: attempts an agent made below its level before the seed changed (its mean over 4 "
        "attempts),",
        "until one reached it: in fidelity to its target, and in closeness to the seed (1 - drift)",
        "phrase 3: seed D4 E4 F#4",
        "  fidelity  a0 0, a1 0",
        "  to seed   a0 0, a1 0",
    ]


def test_onsets_have_a_column_once_lengths_are_in_play():
    transcript = Transcript("r.ens", 2, [SeedChange(0, Melody((60, 62), (8, 16)), (8, 16))])
    series = Series("a0")
    transcript.agents["a0"] = series
    _add(series, 0, 1, "seed", fidelity=0.5, onsets=0.25, drift=0.5, pitches=1)
    _add(series, 1, 1, "seed", fidelity=1.0, onsets=0.75, drift=0.0, pitches=2)
    header = agent_table(transcript, 1).splitlines()[0]
    assert header.split() == ["agent", "gen", "copies", "phrases", "fidelity", "onset", "fid.", "drift",
                              "pitches", "|interval|", "entropy", "arch"]
    assert agent_table(transcript, 1).splitlines()[3].split()[4:6] == ["0.50→1.00", "0.25→0.75"]


def test_recovery_that_did_not_come_says_over_how_many_attempts():
    transcript = Transcript("s.ens", 6, [SeedChange(0, Melody((60,)), None),
                                         SeedChange(3, Melody((62,)), None)])
    a0, a1 = Series("a0"), Series("a1")
    transcript.agents.update(a0=a0, a1=a1)
    for phrase, fidelity in enumerate([1, 1, 1, 0, 0.5, 0.9]):
        _add(a0, phrase, 1, "seed", fidelity=fidelity, drift=[0.5, 0.5, 0.5, 1, 0.5, 0.5][phrase])
    for phrase in range(4, 6):  # spawned after the change: nothing to recover
        _add(a1, phrase, 2, "a0", fidelity=0.0, drift=1.0)
    assert recovery_lines(transcript)[2:] == [
        "phrase 4: seed D4", "  fidelity  a0 not in 3", "  to seed   a0 1"]  # drift 0.5 again at its second


def test_when_nobody_played_on_both_sides_of_a_change():
    transcript = Transcript("s.ens", 2, [SeedChange(0, Melody((60,)), None),
                                         SeedChange(1, Melody((62,)), None)])
    assert recovery_lines(transcript)[2:] == ["phrase 2: seed D4", "  no agent played before and after it"]


def test_a_seed_that_never_changed_has_no_recovery():
    transcript = Transcript("s.ens", 2, [SeedChange(0, Melody((60,)), None)])
    assert recovery_lines(transcript) == ["the seed never changed: no recovery to measure"]


def test_many_changes_are_cut_short():
    changes = [SeedChange(phrase, Melody((60 + phrase % 2,)), None) for phrase in range(MOST_CHANGES + 5)]
    lines = recovery_lines(Transcript("s.ens", MOST_CHANGES + 5, changes))
    assert len(lines) == 2 + 2 * MOST_CHANGES + 1
    assert lines[-1] == "... and 4 more changes of the seed"


def test_a_long_seed_is_shortened():
    melody = Melody(tuple(60 + k % 12 for k in range(64)))
    transcript = Transcript("s.ens", 2, [SeedChange(0, Melody((60,)), None), SeedChange(1, melody, None)])
    line = recovery_lines(transcript)[2]
    assert line.startswith("phrase 2: seed C4 C#4 D4") and line.endswith("…") and len(line) < 80


def test_many_agents_recoveries_wrap_between_agents():
    transcript = Transcript("s.ens", 4, [SeedChange(0, Melody((60,)), None),
                                         SeedChange(2, Melody((62,)), None)])
    for number in range(40):
        series = Series(f"a{number}")
        transcript.agents[series.name] = series
        for phrase in range(4):
            _add(series, phrase, number + 1, "seed", fidelity=[1, 1, 0, 0][phrase], drift=0.0)
    lines = recovery_lines(transcript)[3:]
    fidelity = lines[:lines.index(next(line for line in lines if line.startswith("  to seed")))]
    assert fidelity[0].startswith("  fidelity  a0 not in 2, a1 not in 2,")
    assert all(len(line) <= 100 for line in lines) and len(fidelity) > 1
    assert all(line.startswith(" " * 12 + "a") for line in fidelity[1:])
    assert " ".join(line.strip() for line in fidelity) == "fidelity  " + ", ".join(
        f"a{number} not in 2" for number in range(40))


def test_default_window_is_a_tenth_at_least_one_phrase():
    assert [default_window(n) for n in (0, 1, 19, 20, 60, 3000)] == [1, 1, 1, 2, 6, 300]


def test_one_agent_one_phrase():
    transcript = Transcript("one.ens", 1, [SeedChange(0, Melody((60,)), None)])
    series = Series("a0")
    transcript.agents["a0"] = series
    _add(series, 0, 1, "seed", fidelity=1.0, drift=0.0, pitches=1)
    assert report(transcript, 1).splitlines()[0] == (
        "one.ens: 1 phrase, 1 agent; each cell: its first phrase → its last")

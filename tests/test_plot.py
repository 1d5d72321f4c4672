import numpy as np

from ensemble import commands as cmd
from ensemble.history import HELD_PHRASES
from ensemble.melody import Melody
from ensemble.performance.journal import Recorder, read_journal
from ensemble.plot import BAR, DPI, SIZE, Span, figure, load_pyplot, plot_journal, replayed, roll_bars
from ensemble.session import Session


def _long_journal(path, phrases):
    session = Session(seed=2)
    recorder = Recorder(session)
    for line in ("seed C4 E4 G4 C5", "set all epsilon=0.3 rests=off", "spawn 2"):  # a note every step
        session.submit(cmd.parse_command(line))
    writer = recorder.start(path, ["glicol"])
    for phrase in range(phrases):
        if phrase == 10:
            session.submit(cmd.parse_command("mute a1"))
        session.next_phrase()
    writer.close()


def _starts(axes):
    """The first step of every note the piano roll drew."""
    return [path.vertices[0][0] for collection in axes.collections for path in collection.get_paths()]


def test_a_long_show_is_plotted_whole_with_the_piano_roll_of_its_last_phrases(tmp_path):
    phrases = HELD_PHRASES + 50
    _long_journal(tmp_path / "long.jsonl", phrases)
    journal = read_journal(tmp_path / "long.jsonl")
    fig = figure(journal, replayed(journal))
    curves, roll = fig.axes[0], fig.axes[1]
    for line in (line for line in curves.get_lines() if line.get_label() in ("a0", "a1")):
        assert line.get_xdata().tolist() == list(range(1, phrases + 1))  # every phrase, from the first
    starts = _starts(roll)
    load_pyplot().close(fig)
    assert min(starts) == 4 * 50 and max(starts) < 4 * phrases  # 4 steps a phrase: the last ones only
    assert roll.get_title() == (f"who played what in the last {HELD_PHRASES} phrases "
                                "(a lane per agent; hollow: muted)")


def test_a_show_whose_melodies_are_all_held_is_rolled_from_its_first_step(tmp_path):
    _long_journal(tmp_path / "short.jsonl", 20)
    journal = read_journal(tmp_path / "short.jsonl")
    fig = figure(journal, replayed(journal))
    roll = fig.axes[1]
    load_pyplot().close(fig)
    assert min(_starts(roll)) == 0 and roll.get_title() == "who played what (a lane per agent; hollow: muted)"


# -- with rhythm: notes at their onsets and lengths ------------------------------------------------

RHYTHMIC_SEED = "C4:1 E4:0.5 G4:0.5 _:1 A4:2"


def _record(path, lines, phrases, seed=1, then=()):
    """A journal of `phrases` phrases after `lines`; `then` submitted halfway."""
    session = Session(seed=seed)
    recorder = Recorder(session)
    for line in lines:
        session.submit(cmd.parse_command(line))
    writer = recorder.start(path, ["glicol"])
    for phrase in range(phrases):
        if phrase == phrases // 2:
            for line in then:
                session.submit(cmd.parse_command(line))
        session.next_phrase()
    writer.close()
    return read_journal(path)


def _rectangles(axes):
    """(start, width) of every bar the piano roll drew, in the order drawn."""
    found = []
    for collection in axes.collections:
        for path in collection.get_paths():
            xs = path.vertices[:, 0]
            found.append((float(xs.min()), float(xs.max() - xs.min())))
    return found


def test_a_rhythmic_show_is_rolled_at_the_onsets_and_lengths_heard(tmp_path):
    script = [f"seed {RHYTHMIC_SEED}", "spawn 2", "set all rhythm=0.5,1,2"]
    journal = _record(tmp_path / "rhythm.jsonl", script, 40)
    replay = replayed(journal)
    last = replay.session.history.held[-1]
    seed = Melody.parse(RHYTHMIC_SEED)
    learned = [a.agent for a in last.attempts() if a.played == seed.notes and a.lengths == seed.ticks(8)]
    assert learned, "an agent should have learned the seed, notes and lengths, in 40 phrases"
    span = replay.spans[last.index]
    assert span == Span(start=39 * 5.0, step_beats=0.5, grid=5 * 16)  # 5 beats a phrase: the seed's

    bars, unit = roll_bars(replay)
    assert unit == "beat"
    drawn = [(bar.note, bar.start - span.start, bar.length) for bar in bars
             if bar.agent == learned[0] and bar.start >= span.start]
    assert drawn == [(60, 0.0, 1.0), (64, 1.0, 0.5), (67, 1.5, 0.5), (69, 3.0, 2.0)]  # the rest: no bar
    assert all(0 <= bar.start < 40 * 5.0 for bar in bars)  # every phrase on the 5-beat grid

    fig = figure(journal, replay)
    axes = fig.axes[1]
    rectangles = _rectangles(axes)
    load_pyplot().close(fig)
    assert axes.get_xlabel() == "beat"
    assert len(rectangles) == len(bars)
    assert np.allclose(rectangles, [(bar.start, bar.length * BAR) for bar in bars])  # drawn as computed

    plot_journal(tmp_path / "rhythm.jsonl", tmp_path / "rhythm.png")
    data = (tmp_path / "rhythm.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (SIZE[0] * DPI, SIZE[1] * DPI)


def test_phrases_before_rhythm_came_in_are_rolled_a_step_a_note_in_beats(tmp_path):
    journal = _record(tmp_path / "mixed.jsonl", ["seed C4 E4 G4 C5", "spawn 2"], 8,
                      then=[f"seed {RHYTHMIC_SEED}"])
    replay = replayed(journal)
    bars, unit = roll_bars(replay)
    assert unit == "beat"
    assert [replay.spans[i] for i in (0, 3, 4, 5)] == [
        Span(0.0, 0.5, None), Span(6.0, 0.5, None), Span(8.0, 0.5, 80), Span(13.0, 0.5, 80)]
    plain = [bar for bar in bars if bar.start < 8.0]
    assert plain and all(bar.length == 0.5 and bar.start % 0.5 == 0 for bar in plain)
    # Their rhythm left at `step`, the agents play 5 half-beat notes; a rest fills the 5-beat phrase.
    laid = [((bar.start - 8.0) % 5.0, bar.length) for bar in bars if bar.start >= 8.0]
    assert laid and all(at in (0.0, 0.5, 1.0, 1.5, 2.0) and length == 0.5 for at, length in laid)


def test_a_show_without_lengths_is_rolled_in_steps(tmp_path):
    _long_journal(tmp_path / "plain.jsonl", 6)
    journal = read_journal(tmp_path / "plain.jsonl")
    bars, unit = roll_bars(replayed(journal))
    assert unit == "step" and {bar.length for bar in bars} == {1}
    assert sorted({bar.start for bar in bars}) == list(range(24))  # 4 steps a phrase, a note each

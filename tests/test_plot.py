from ensemble import commands as cmd
from ensemble.history import HELD_PHRASES
from ensemble.performance.journal import Recorder, read_journal
from ensemble.plot import _pyplot, figure, replayed
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
    _pyplot().close(fig)
    assert min(starts) == 4 * 50 and max(starts) < 4 * phrases  # 4 steps a phrase: the last ones only
    assert roll.get_title() == (f"who played what in the last {HELD_PHRASES} phrases "
                                "(a lane per agent; hollow: muted)")


def test_a_show_whose_melodies_are_all_held_is_rolled_from_its_first_step(tmp_path):
    _long_journal(tmp_path / "short.jsonl", 20)
    journal = read_journal(tmp_path / "short.jsonl")
    fig = figure(journal, replayed(journal))
    roll = fig.axes[1]
    _pyplot().close(fig)
    assert min(_starts(roll)) == 0 and roll.get_title() == "who played what (a lane per agent; hollow: muted)"

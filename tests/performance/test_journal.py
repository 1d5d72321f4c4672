"""Journals: recorded through the session as the REPL does, replayed exactly, robust to damage."""

import hashlib
import json
import os
import signal
import subprocess
import sys

import pytest
from support.listener import Listener
from support.messages import captured
from support.waiting import wait_for_line

from ensemble import commands as cmd
from ensemble.errors import UserError
from ensemble.performance.journal import FORMAT, Recorder, read_journal
from ensemble.performance.offline import render, render_script
from ensemble.performance.script import parse_script
from ensemble.performance.sources import journal_source, script_source
from ensemble.session import Session

SCRIPT = ("tempo 180\nstep 0.5\nseed C4 E4 G4 C5\nspawn 3\nwait 4\n"
          "set a1 voice=square alpha=0.9\nmute a2\nwait 4\n")


def _typed_performance(path):
    """A performance driven through the session as the REPL drives it, recorded as it goes."""
    session = Session(seed=5)
    recorder = Recorder(session)  # observes from the start, as the runner's does
    for line in ("tempo 180", "step 0.5", "seed C4 E4 G4 C5", "spawn 3"):
        session.submit(cmd.parse_command(line))
    session.next_phrase()
    journal = recorder.start(path, ["glicol"])  # started after the first phrase: still complete
    for _ in range(3):
        session.next_phrase()
    session.submit(cmd.parse_command("set a1 voice=square alpha=0.9"))
    session.submit(cmd.parse_command("mute a2"))
    session.submit(cmd.parse_command("set a9 alpha=0.1"))  # refused at the boundary: not journaled
    for _ in range(4):
        session.next_phrase()
    journal.close()
    return session


def test_a_replay_makes_the_same_attempts(tmp_path):
    original = _typed_performance(tmp_path / "p.jsonl")
    journal = read_journal(tmp_path / "p.jsonl")
    assert journal.phrases == 8 and journal.warnings == []
    replay = Session(seed=journal.seed)
    with captured() as messages:
        phrases = list(journal_source(journal).play(replay))
    assert messages == []
    assert [[a.played for a in p] for p in replay.history.attempts] == \
           [[a.played for a in p] for p in original.history.attempts]
    assert [part.agent for part in phrases[-1].parts] == ["a0", "a1"]  # a2 was muted


def test_a_rhythmic_performance_replays_its_notes_and_lengths(tmp_path):
    session = Session(seed=4)
    recorder = Recorder(session)
    journal = recorder.start(tmp_path / "r.jsonl", ["glicol"])
    for line in ("seed C4:1 E4:0.5 G4:0.5 _:1 A4:2", "spawn 2", "set all rhythm=0.5,1,2",
                 "set a1 rhythm=0.25,0.5,1,2"):
        session.submit(cmd.parse_command(line))
    for _ in range(6):
        session.next_phrase()
    journal.close()
    lines = (tmp_path / "r.jsonl").read_text().splitlines()
    assert '"format":3' in lines[0] and '"command":"seed C4:1 E4:0.5 G4:0.5 _:1 A4:2"' in lines[1]
    read = read_journal(tmp_path / "r.jsonl")
    replay = Session(seed=read.seed)
    with captured() as messages:
        list(journal_source(read).play(replay))
    assert messages == []  # every checksum, which covers the lengths, matched
    assert [[(a.played, a.lengths) for a in p] for p in replay.history.attempts] == \
           [[(a.played, a.lengths) for a in p] for p in session.history.attempts]
    assert all(a.lengths is not None for p in replay.history.attempts for a in p)


def test_rendering_a_journal_gives_the_bytes_of_rendering_its_script(tmp_path):
    script = render_script(parse_script(SCRIPT), tmp_path / "script.wav", seed=5, show_progress=False)
    journal_path = tmp_path / "p.jsonl"
    session = Session(seed=5)
    recorder = Recorder(session)
    for _ in script_source(parse_script(SCRIPT), 5, "script").play(session):
        pass
    recorder.start(journal_path, ["wav"]).close()  # the log of a finished session
    with captured() as messages:
        replayed = render(journal_source(read_journal(journal_path)), tmp_path / "journal.wav",
                          show_progress=False)
    assert messages.warnings() == []
    digest = [hashlib.sha256(r.path.read_bytes()).hexdigest() for r in (script, replayed)]
    assert digest[0] == digest[1]


def test_a_replay_that_diverges_says_where(tmp_path):
    _typed_performance(tmp_path / "p.jsonl")
    lines = (tmp_path / "p.jsonl").read_text().splitlines()
    header = json.loads(lines[0])
    header["seed"] = 6  # another seed: other attempts
    (tmp_path / "p.jsonl").write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    with captured() as messages:
        list(journal_source(read_journal(tmp_path / "p.jsonl")).play(Session(seed=6)))
    assert messages == [f"{tmp_path / 'p.jsonl'}: the replay diverges from the recording at phrase 1 "
                        "(a damaged line, or another version of ensemble); the commands play on as recorded"]


RECORDER = """
import sys, time
from pathlib import Path
from ensemble import commands as cmd
from ensemble.performance.journal import Recorder
from ensemble.session import Session
session = Session(seed=3)
Recorder(session).start(Path(sys.argv[1]), ["glicol"])
for line in ("spawn 2", "seed C4 D4 E4 F4"):
    session.submit(cmd.parse_command(line))
phrase = 0
while True:
    if phrase % 5 == 4:
        session.submit(cmd.parse_command(f"set all alpha=0.{phrase % 9 + 1}"))
    session.next_phrase()
    phrase += 1
    print(phrase, flush=True)
    time.sleep(0.002)
"""


def test_a_recording_killed_mid_performance_replays_up_to_its_last_line(tmp_path):
    path = tmp_path / "killed.jsonl"
    recorder = subprocess.Popen([sys.executable, "-c", RECORDER, str(path)], stdout=subprocess.PIPE,
                                text=True)
    try:
        wait_for_line(recorder, lambda line: int(line) >= 40, timeout=120, what="the recorder's 40th phrase")
    finally:
        recorder.send_signal(signal.SIGKILL)  # also when it stalled: it would record forever
        recorder.wait(timeout=10)
    journal = read_journal(path)
    lines = [line for line in path.read_text().split("\n")[1:] if line.strip()]
    complete = [json.loads(line) for line in lines[: len(lines) - (1 if journal.warnings else 0)]]
    assert journal.phrases == sum("checksum" in line for line in complete) >= 40
    replay = Session(seed=journal.seed)
    with captured() as messages:
        assert len(list(journal_source(journal).play(replay))) == journal.phrases
    assert messages == []  # every phrase it kept replays exactly


def test_a_torn_last_line_is_reported_and_skipped(tmp_path):
    _typed_performance(tmp_path / "p.jsonl")
    text = (tmp_path / "p.jsonl").read_text()
    (tmp_path / "p.jsonl").write_text(text + '{"phrase":8,"chec')
    journal = read_journal(tmp_path / "p.jsonl")
    assert journal.phrases == 8
    torn = len(text.splitlines()) + 1
    assert journal.warnings == [f"{tmp_path / 'p.jsonl'}:{torn}: the last line was cut off (the recording "
                                "was stopped mid-line); replaying the 8 phrases before it"]


@pytest.mark.parametrize(("content", "message"), [
    ("", "empty: not a journal"),
    ("seed C4\nwait 2\n", ":1: not a journal line"),
    ('{"kind": "something else", "format": 1}\n', ":1: not an ensemble journal"),
    (json.dumps({"kind": "ensemble journal", "format": FORMAT + 1, "seed": 0}) + "\n",
     f":1: journal format {FORMAT + 1} is newer than this ensemble"),
])
def test_foreign_files_are_clear_errors(tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_journal(path)


def test_the_cli_replays_renders_and_plots_a_recording(tmp_path):
    _typed_performance(tmp_path / "p.jsonl")
    run = [sys.executable, "-m", "ensemble"]
    rendered = subprocess.run([*run, "render", "p.jsonl", "--out", "p.wav", "--midi", "p.mid"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120, check=False)
    assert rendered.returncode == 0, rendered.stderr
    assert (tmp_path / "p.wav").stat().st_size > 44 and (tmp_path / "p.mid").stat().st_size > 0
    plotted = subprocess.run([*run, "plot", "p.jsonl", "-o", "p.png"], cwd=tmp_path, capture_output=True,
                             text=True, timeout=120, check=False)
    assert plotted.returncode == 0, plotted.stderr
    bad = subprocess.run([*run, "render", "nothing.jsonl", "--out", "x.wav"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "cannot read journal" in bad.stderr


def test_the_plot_is_a_png_of_the_expected_size_with_a_curve_per_agent(tmp_path):
    from ensemble.plot import DPI, SIZE, figure, plot_journal, replayed

    _typed_performance(tmp_path / "p.jsonl")
    journal = read_journal(tmp_path / "p.jsonl")
    fig = figure(journal, replayed(journal))
    curves = [line.get_label() for line in fig.axes[0].get_lines() if not line.get_label().startswith("_")]
    assert curves == ["a0", "a1", "a2"]  # the dotted command markers carry no label
    plot_journal(tmp_path / "p.jsonl", tmp_path / "p.png")
    data = (tmp_path / "p.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (SIZE[0] * DPI, SIZE[1] * DPI)


def test_recording_through_the_repl_stage(tmp_path):
    from ensemble.clock import VirtualClock
    from ensemble.stage import Stage

    stage = Stage([], VirtualClock())
    assert stage.type(f"record on {tmp_path / 'r.jsonl'}").startswith("recording to ")
    assert stage.type("record on").startswith("already recording")
    stage.session.submit(cmd.Spawn(1))
    stage.session.next_phrase()
    assert stage.type("record off") == f"recorded {tmp_path / 'r.jsonl'}"
    assert read_journal(tmp_path / "r.jsonl").phrases == 1


def test_without_matplotlib_the_plot_says_how_to_install_it(tmp_path, monkeypatch):
    from ensemble.plot import plot_journal

    _typed_performance(tmp_path / "p.jsonl")
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    with pytest.raises(UserError, match=r"plotting needs matplotlib: pip install 'ensemble\[plot\]'"):
        plot_journal(tmp_path / "p.jsonl", tmp_path / "p.png")


def test_phrases_are_numbered_from_one_as_everywhere_else(tmp_path):
    _typed_performance(tmp_path / "p.jsonl")
    lines = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert lines[0]["format"] == FORMAT == 3
    assert [line["phrase"] for line in lines[1:] if "checksum" in line] == list(range(1, 9))
    assert {line["phrase"] for line in lines[1:] if "command" in line} == {1, 5}  # as the REPL announced
    header = json.dumps({"kind": "ensemble journal", "format": 2, "seed": 0})
    (tmp_path / "zero.jsonl").write_text(header + '\n{"phrase":0,"checksum":"x"}\n')
    zero = read_journal(tmp_path / "zero.jsonl")
    assert zero.phrases == 0
    assert zero.warnings == [f"{tmp_path / 'zero.jsonl'}:2: a journal line needs a phrase number; "
                             "replaying the 0 phrases before it (0 lines after it left out)"]


def test_the_piano_roll_names_its_notes_gives_each_agent_a_lane_and_draws_muted_agents_hollow(tmp_path):
    from ensemble.plot import figure, replayed

    _typed_performance(tmp_path / "p.jsonl")  # a2 is muted from phrase 5 on
    journal = read_journal(tmp_path / "p.jsonl")
    roll = figure(journal, replayed(journal)).axes[1]
    labels = [label.get_text() for label in roll.get_yticklabels()]
    assert {"C4", "E4", "G4", "C5"} <= set(labels)
    def opaque(bars):
        colour = bars.get_facecolor()
        return len(colour) > 0 and colour[0][3] > 0

    filled = [bars for bars in roll.collections if opaque(bars)]
    hollow = [bars for bars in roll.collections if not opaque(bars)]
    assert filled and hollow  # a2's muted attempts are drawn, hollow
    lanes = {round(bars.get_paths()[0].vertices[:, 1].min() % 1, 2) for bars in filled}
    assert len(lanes) == 3  # one lane per agent within each semitone


# -- a journal appears once the performance starts --------------------------------------------------


class _Unopenable(Listener):
    name = "unopenable"

    def open(self, clock):
        raise UserError("unopenable: not here")


def test_a_performance_that_cannot_start_leaves_no_journal(tmp_path):
    from ensemble.clock import VirtualClock
    from ensemble.performance.runner import Runner

    source = script_source(parse_script(SCRIPT), 5, "script")
    for _ in range(2):  # and the same command again is not refused for a file it left
        runner = Runner(source, [_Unopenable()], VirtualClock(), live=False)
        runner.record(tmp_path / "never.jsonl")
        with captured() as messages, pytest.raises(UserError, match="no output could be opened"):
            runner.run()
        assert not (tmp_path / "never.jsonl").exists()
        assert "recorded" not in " ".join(messages)


def test_a_journal_is_created_with_the_first_phrase_or_command(tmp_path):
    session = Session(seed=1)
    recorder = Recorder(session)
    writer = recorder.start(tmp_path / "later" / "j.jsonl", ["midi"])
    assert not (tmp_path / "later").exists() and not writer.created  # asked for: nothing on disk yet
    with pytest.raises(UserError, match="already recording"):
        recorder.start(tmp_path / "other.jsonl", ["midi"])
    session.submit(cmd.Spawn(1))
    session.next_phrase()
    lines = [json.loads(line) for line in (tmp_path / "later" / "j.jsonl").read_text().splitlines()]
    assert [set(line) for line in lines] == [set(lines[0]), {"phrase", "beat", "time", "command"},
                                             {"phrase", "checksum"}]
    assert lines[0]["kind"] == "ensemble journal" and lines[0]["outputs"] == ["midi"]


@pytest.mark.parametrize(("make", "message"), [
    (lambda folder: (folder / "j.jsonl").write_text("old"), "exists already; choose another file"),
    (lambda folder: (folder / "file").write_text("x"), "is not a folder"),
])
def test_a_journal_that_cannot_be_a_new_file_is_refused_before_anything_plays(tmp_path, make, message):
    make(tmp_path)
    path = tmp_path / "j.jsonl" if "exists" in message else tmp_path / "file" / "j.jsonl"
    with pytest.raises(UserError, match=message):
        Recorder(Session()).start(path, ["glicol"])
    assert not (tmp_path / "file").is_dir()


def test_the_cli_with_no_output_leaves_no_journal_and_can_run_again(tmp_path):
    (tmp_path / "s.ens").write_text("spawn 1\nwait 2\n")
    env = {**os.environ, "JACK_DEFAULT_SERVER": f"no-such-server-{os.getpid()}", "JACK_NO_START_SERVER": "1"}
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "-m", "ensemble", "play", "s.ens", "--to", "midi", "--midi-backend", "jack",
             "--record", "j.jsonl"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
            check=False)
        assert result.returncode == 2, result.stderr
        assert "no output could be opened" in result.stderr and "exists already" not in result.stderr
        assert "recorded" not in result.stderr and "Traceback" not in result.stderr
        assert not (tmp_path / "j.jsonl").exists()

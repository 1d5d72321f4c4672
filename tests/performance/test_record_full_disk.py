"""Recording on a disk that fills up: writes fail the way ENOSPC fails (`ulimit -f` gives EFBIG;
Python ignores the SIGXFSZ that comes with it), and the music must not notice.

Through the real `ensemble` command, on a real jackd, with a MIDI synth of the test's own on it.
"""

import json
import subprocess
import sys
import threading
import time

import pytest
from support.jack_midi import Synth
from support.waiting import join

from ensemble.performance.journal import read_journal

RECORDER = """
import sys
from pathlib import Path
from ensemble import commands as cmd
from ensemble.logs import shown_on
from ensemble.performance.journal import Recorder
from ensemble.session import Session
session = Session(seed=3)
recorder = Recorder(session)
with shown_on(sys.stderr):
    recorder.start(Path(sys.argv[1]), ["glicol"])
    for line in ("spawn 2", "seed C4 D4 E4 F4"):
        session.submit(cmd.parse_command(line))
    for phrase in range(200):
        if phrase % 5 == 4:
            session.submit(cmd.parse_command(f"set all alpha=0.{phrase % 9 + 1}"))
        session.next_phrase()
    print(session.phrase_index, recorder.writer is None, recorder.stop().failure is not None)
"""

LIMIT_BLOCKS = 2  # `ulimit -f` counts blocks of 1024 bytes (bash): the journal hits it after ~38 phrases
LIMITED = ["bash", "-c", f'ulimit -f {LIMIT_BLOCKS} && exec "$@"', "bash"]  # then the command
PHRASES = 60  # of 0.2 s: 4 steps of a quarter beat at 300 bpm
SCRIPT = f"""tempo 300
step 0.25
seed C4 E4 G4 C5
spawn 2
set all rests=off
wait {PHRASES}
"""
NOTES_PER_PHRASE = 2 * 4  # two agents, four steps, no rests


def _stamped_lines(stream, into):
    for line in stream:
        into.append((time.monotonic(), line.rstrip("\n")))


@pytest.fixture
def synth(jack, monkeypatch):
    for key in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER"):
        monkeypatch.setenv(key, jack.env[key])  # rtmidi finds the test's server through these
    port = Synth("synth")
    yield port
    port.close()


@pytest.mark.usefixtures("glicol")
def test_a_full_disk_stops_the_journal_not_the_music(jack, synth, tmp_path):
    (tmp_path / "long.ens").write_text(SCRIPT)
    play = [sys.executable, "-m", "ensemble", "play", "long.ens", "--to", "midi:synth", "--midi-backend",
            "jack", "--record", "long.jsonl"]
    process = subprocess.Popen([*LIMITED, *play],
                               cwd=tmp_path, env=jack.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    said = []
    reader = threading.Thread(target=_stamped_lines, args=(process.stderr, said), daemon=True)
    reader.start()
    try:
        stdout = process.stdout.read()  # stderr is the reader's alone: communicate() would take lines from it
        process.wait(timeout=120)
    finally:
        process.kill()
    join(reader, 10, "the stderr reader")
    time.sleep(0.1)  # the last notes cross JACK's next period
    lines = [line for _, line in said]
    assert process.returncode == 0, lines  # not killed by SIGXFSZ, not ended by the failing write
    assert f"played {PHRASES} phrases on midi" in stdout
    assert not any("Traceback" in line for line in lines), lines
    told = [(at, line) for at, line in said if "no longer being saved" in line]
    assert len(told) == 1, lines  # once, in one line
    failed_at, message = told[0]
    assert message.startswith("journal long.jsonl: no longer being saved (File too large); "
                              "it stops after phrase ")
    kept = int(message.split("it stops after phrase ")[1].split(";")[0])
    assert 0 < kept < PHRASES  # the limit was hit mid-performance

    later = [at for at in synth.note_ons() if at > failed_at]
    assert len(later) >= (PHRASES - kept) * NOTES_PER_PHRASE // 2, "the music went on after the failure"

    journal = tmp_path / "long.jsonl"
    text = journal.read_text()
    assert len(text.encode()) <= LIMIT_BLOCKS * 1024
    assert text.endswith("\n")  # the torn line's bytes were taken back: only complete lines
    last = json.loads(text.splitlines()[-1])
    assert last["phrase"] == kept and "checksum" in last  # it ends at the phrase it said (and when it began)
    assert read_journal(journal).warnings == []

    rendered = subprocess.run([sys.executable, "-m", "ensemble", "render", "long.jsonl", "--out", "x.wav"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    assert rendered.returncode == 0, rendered.stderr
    assert f"{kept} phrases" in rendered.stdout
    assert "diverges" not in rendered.stderr  # what was kept is what was played


def test_a_write_that_fails_is_said_once_and_the_session_goes_on(tmp_path):
    """The writer alone, under the same limit: no output, no jackd."""
    path = tmp_path / "j.jsonl"
    result = subprocess.run([*LIMITED, sys.executable, "-c", RECORDER, str(path)], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["200", "True", "True"]  # every phrase composed; not recording any more
    [told] = result.stderr.splitlines()
    assert told.startswith(f"journal {path}: no longer being saved (File too large); it stops after phrase ")
    text = path.read_text()
    assert text.endswith("\n") and len(text.encode()) <= LIMIT_BLOCKS * 1024
    journal = read_journal(path)
    assert journal.warnings == [] and 0 < journal.phrases < 200
    assert told.endswith(f"it stops after phrase {journal.phrases}; the performance plays on")

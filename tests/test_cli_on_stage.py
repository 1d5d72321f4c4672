"""What a performer ran into in the first ten minutes, through the real `ensemble` command."""

import json
import signal
import subprocess
import sys
import threading
import time

import pytest
from support.audio_analysis import dominant_midi, read_wav
from support.waiting import join

from ensemble.melody import Melody

SHARPS = """
tempo 120
step 0.5
seed D4 F#4 A4 C#5   # sharps are notes; this is a comment
set all palette=chromatic:D4-C#5 rests=off epsilon=0 alpha=1
spawn 1
wait 30
"""


def _ensemble(*args, cwd, timeout=300):
    return subprocess.run([sys.executable, "-m", "ensemble", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, check=False)


@pytest.mark.usefixtures("glicol")
def test_sharps_are_notes_and_a_hash_after_a_space_starts_a_comment(tmp_path):
    (tmp_path / "sharps.ens").write_text(SHARPS)
    result = _ensemble("render", "sharps.ens", "--out", "sharps.wav", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "seed melody: D4 F#4 A4 C#5" in result.stdout
    audio, rate = read_wav(tmp_path / "sharps.wav")
    step, start = rate // 4, 29 * rate  # the last phrase: 4 steps of 0.25 s, after 29 of 1 s
    heard = [round(dominant_midi(audio[start + k * step + 500: start + (k + 1) * step - 2500], rate))
             for k in range(4)]
    assert heard == list(Melody.parse("D4 F#4 A4 C#5").notes)


@pytest.mark.usefixtures("glicol")
def test_an_option_before_the_command_counts_as_after_it(tmp_path):
    (tmp_path / "s.ens").write_text(SHARPS.replace("epsilon=0 alpha=1", "epsilon=0.5"))
    before = _ensemble("--seed", "7", "render", "s.ens", "--out", "a.wav", cwd=tmp_path)
    after = _ensemble("render", "s.ens", "--out", "b.wav", "--seed", "7", cwd=tmp_path)
    assert before.returncode == after.returncode == 0, before.stderr + after.stderr
    assert "seed 7" in before.stdout and "seed 7" in after.stdout
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()


@pytest.mark.parametrize(("args", "message"), [
    (["--to", "sc", "render", "s.ens", "--out", "x.wav"], "--to has no effect on `ensemble render`"),
    (["--vi", "plot", "p.jsonl", "-o", "p.png"], "--vi has no effect on `ensemble plot`"),
    (["--midi-clock", "demo"], "--midi-clock has no effect on `ensemble demo`"),
])
def test_an_option_the_command_would_ignore_is_refused(tmp_path, args, message):
    result = _ensemble(*args, cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--peer", "10.77.0.3:7400"], "ensemble: --peer needs --listen HOST:PORT"),
    (["--key", "s3cret"], "ensemble: --key needs --listen HOST:PORT"),
    (["--listen", "10.77.0.2"], "ensemble: '10.77.0.2' is not HOST:PORT (e.g. 10.0.0.2:7400)"),
    (["--listen", "10.77.0.2:7400", "--peer", "10.77.0.3:99999"], "ensemble: '10.77.0.3:99999': a port is"),
    (["--listen", "10.77.0.2:7400", "--name", "a/b"], "ensemble: 'a/b' cannot name a laptop"),
    (["--listen", "10.77.0.2:7400", "--key", ""], "ensemble: --key (or ENSEMBLE_KEY) is empty"),
])
def test_bad_laptop_ensemble_options_are_one_line_before_anything_plays(tmp_path, args, message):
    (tmp_path / "s.ens").write_text("spawn 1\nwait 1\n")
    result = _ensemble("play", "s.ens", "--to", "midi", *args, cwd=tmp_path, timeout=60)
    assert result.returncode == 2 and result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1


@pytest.mark.usefixtures("glicol")
def test_a_journal_replays_with_its_own_seed_and_another_is_refused(tmp_path):
    from ensemble.resources import bundled

    journal = str(bundled("performances") / "recorded" / "canon-2026-11-21.jsonl")
    refused = _ensemble("render", journal, "--out", "x.wav", "--seed", "3", cwd=tmp_path)
    assert refused.returncode == 2 and "replays with its own seed" in refused.stderr
    honoured = _ensemble("render", journal, "--out", "x.wav", "--seed", "0", cwd=tmp_path)
    assert honoured.returncode == 0 and "seed 0" in honoured.stdout


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_stop_like_ctrl_c(scsynth, tmp_path, signum):
    (tmp_path / "long.ens").write_text("seed C4 E4 G4 C5\nspawn 3\nwait 1000\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "ensemble", "play", "long.ens", "--to", f"sc:127.0.0.1:{scsynth.port}",
         "--record", "long.jsonl"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(process.stderr), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 30
        while not any("connected to the server" in line for line in lines):
            assert time.monotonic() < deadline and process.poll() is None, f"never connected: {lines}"
            time.sleep(0.05)
        time.sleep(1.5)  # a few phrases, with notes sounding
        process.send_signal(signum)
        process.wait(timeout=30)
    finally:
        process.kill()
    join(reader, 10, "the stderr reader")
    stderr = "".join(lines)
    assert process.returncode == 128 + signum, stderr
    assert f"stopped by {signal.Signals(signum).name}" in stderr and "Traceback" not in stderr
    assert "recorded long.jsonl" in stderr
    text = (tmp_path / "long.jsonl").read_text()
    assert text.endswith("\n") and json.loads(text.splitlines()[-1])["phrase"] >= 1  # flushed whole
    numbers = [json.loads(line)["phrase"] for line in text.splitlines()[1:] if "checksum" in line]
    assert numbers[0] == 1  # phrases numbered from 1, as the REPL and the tables number them
    time.sleep(0.5)  # past every time tag that had been sent
    with scsynth.client() as client:
        client.send("/g_queryTree", 0, 0)
        tree = client.wait_for("/g_queryTree.reply").params
        client.send("/status")
        status = client.wait_for("/status.reply").params
    assert 4242 not in tree[3:] and status[2] == 0  # our group freed, nothing sounding

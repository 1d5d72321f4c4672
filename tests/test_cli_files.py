"""The files of `ensemble` as a user runs it, a real process on the real file system: an output
never lands on an input; a render that fails, is interrupted or killed leaves no file at its
target and an earlier file there untouched; a long render says how long and how far, also
when stderr is not a terminal."""

import os
import queue
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ensemble.resources import bundled

LONG = "seed C4 E4 G4 C5\nspawn 8\nwait 400\n"  # long enough to be stopped part-way
SHORT = "seed C4 E4 G4 C5\nspawn 2\nwait 30\n"
WAIT = 120  # seconds, at most, for a line or an exit


def _ensemble(*args, cwd, limit_file_size=None):
    def child():
        if limit_file_size is not None:  # as `ulimit -f`: writes past it fail (EFBIG), as a full disk does
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_size, limit_file_size))

    return subprocess.run([sys.executable, "-m", "ensemble", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, check=False, preexec_fn=child)


def _contents(folder):
    """Every file in `folder`, hidden ones too, with its bytes (links as links)."""
    return {path.name: ("->", str(path.readlink())) if path.is_symlink()
            else _contents(path) if path.is_dir() else path.read_bytes()
            for path in sorted(folder.iterdir())}


@pytest.fixture
def stage(tmp_path):
    """A folder with a script, a journal, and links to them."""
    (tmp_path / "s.ens").write_text(SHORT)
    shutil.copy(bundled("performances") / "recorded" / "canon-2026-11-21.jsonl", tmp_path / "take.jsonl")
    (tmp_path / "sym.wav").symlink_to("s.ens")
    (tmp_path / "hard.mid").hardlink_to(tmp_path / "s.ens")
    (tmp_path / "sub").mkdir()
    return tmp_path


@pytest.mark.parametrize(("args", "message"), [
    (["render", "s.ens", "--out", "s.ens"], "--out s.ens is the script being rendered"),
    (["render", "s.ens", "--out", "sub/../s.ens"], "--out sub/../s.ens is the script being rendered (s.ens)"),
    (["render", "s.ens", "--out", "sym.wav"], "--out sym.wav is the script being rendered (s.ens)"),
    (["render", "s.ens", "--out", "x.wav", "--midi", "hard.mid"],
     "--midi hard.mid is the script being rendered (s.ens)"),
    (["render", "take.jsonl", "--out", "./take.jsonl"], "--out take.jsonl is the journal being rendered"),
    (["play", "s.ens", "--record", "sym.wav", "--to", "midi"],
     "--record sym.wav is the performance being played (s.ens)"),
    (["plot", "take.jsonl", "-o", "take.jsonl"], "--output take.jsonl is the journal being plotted"),
])
def test_an_output_onto_an_input_is_refused_in_one_line_and_the_input_kept(stage, args, message):
    before = _contents(stage)
    result = _ensemble(*args, cwd=stage)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"ensemble: {message}: writing there would destroy it; choose another file"]
    assert result.stdout == ""
    assert _contents(stage) == before


def test_two_outputs_that_are_one_file_are_refused(stage):
    before = _contents(stage)
    result = _ensemble("render", "s.ens", "--out", "x.wav", "--midi", "sub/../x.wav", cwd=stage)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "ensemble: --out x.wav and --midi sub/../x.wav are one file; give each its own"]
    assert _contents(stage) == before


@pytest.mark.usefixtures("glicol")
@pytest.mark.parametrize("earlier", [True, False])
def test_a_render_failing_part_way_leaves_no_file_and_an_earlier_one_untouched(tmp_path, earlier):
    (tmp_path / "long.ens").write_text(LONG)
    if earlier:
        (tmp_path / "take.wav").write_bytes(b"an earlier take")
        (tmp_path / "take.mid").write_bytes(b"its MIDI")
    before = _contents(tmp_path)
    result = _ensemble("render", "long.ens", "--out", "take.wav", "--midi", "take.mid", cwd=tmp_path,
                       limit_file_size=2_000_000)  # the WAV would be 140 MB
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[-1] == "ensemble: cannot write take.wav: File too large"
    assert any(line.startswith("rendering take.wav: 400 phrases, ") for line in lines)  # it had begun
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert _contents(tmp_path) == before  # no partial file either


def _stderr_lines(process):
    lines = queue.Queue()

    def read():
        for line in process.stderr:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def _wait_for(lines, pattern):
    seen = []
    while True:
        try:
            line = lines.get(timeout=WAIT)
        except queue.Empty:
            pytest.fail(f"no line matching {pattern!r} within {WAIT} s; saw {seen}")
        if line is None:
            pytest.fail(f"the process ended before a line matching {pattern!r}; saw {seen}")
        seen.append(line)
        if re.search(pattern, line):
            return seen


def _started(args, cwd):
    def child():  # Ctrl-C raises KeyboardInterrupt even if this test runs where SIGINT is ignored
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    return subprocess.Popen([sys.executable, "-m", "ensemble", *args], cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, preexec_fn=child)


@pytest.mark.usefixtures("glicol")
@pytest.mark.parametrize(("stop", "code", "last"), [
    (signal.SIGTERM, 143, "ensemble: stopped by SIGTERM"),
    (signal.SIGINT, 130, "ensemble: interrupted"),
    (signal.SIGKILL, -9, None),
])
def test_a_render_stopped_part_way_leaves_the_target_as_it_was(tmp_path, stop, code, last):
    (tmp_path / "long.ens").write_text(LONG)
    (tmp_path / "take.wav").write_bytes(b"an earlier take")
    before = _contents(tmp_path)
    process = _started(["render", "long.ens", "--out", "take.wav"], tmp_path)
    try:
        lines = _stderr_lines(process)
        _wait_for(lines, r"^rendering take\.wav: 10% ")  # part-way: a tenth rendered
        assert (tmp_path / ".take.wav.partial").stat().st_size > 1_000_000
        process.send_signal(stop)
        assert process.wait(timeout=WAIT) == code
    finally:
        process.kill()
        process.wait(timeout=WAIT)
    rest = []
    while (line := lines.get(timeout=WAIT)) is not None:
        rest.append(line)
    after = _contents(tmp_path)
    if stop == signal.SIGKILL:  # nothing can clean up after kill -9: the partial file stays, hidden, named
        assert set(after) == {*before, ".take.wav.partial"}
        after.pop(".take.wav.partial")
    else:
        assert rest[-1] == last
    assert after == before

    (tmp_path / "s.ens").write_text(SHORT)
    again = _ensemble("render", "s.ens", "--out", "take.wav", cwd=tmp_path)  # takes a dead one's over
    assert again.returncode == 0, again.stderr
    assert sorted(_contents(tmp_path)) == ["long.ens", "s.ens", "take.wav"]
    assert (tmp_path / "take.wav").read_bytes()[:4] == b"RIFF"


@pytest.mark.usefixtures("glicol")
def test_a_render_says_its_size_and_progress_in_lines_when_stderr_is_not_a_terminal(tmp_path):
    (tmp_path / "s.ens").write_text(SHORT)
    result = _ensemble("render", "s.ens", "--out", "take.wav", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("checking")]  # a slow machine
    # The estimate comes from the rehearsal's count of agents and seconds (not a clock): exact here.
    assert lines[0] == "rendering take.wav: 30 phrases, 31 s of audio, 5.4 MB WAV, under a second to render"
    assert [re.match(r"rendering take\.wav: (\d+)% \((\d+) of 30 phrases, ", line).groups()
            for line in lines[1:]] == [(str(p), str(p * 30 // 100)) for p in range(10, 101, 10)]
    assert result.stdout.startswith("wrote take.wav (30.5 s, 30 phrases, seed 0, ")


def test_a_long_check_says_what_it_is_doing_and_for_how_long(tmp_path):
    (tmp_path / "huge.ens").write_text("seed C4 E4\nspawn 1\nwait 100000\n")
    process = _started(["render", "huge.ens", "--out", "huge.wav"], tmp_path)
    try:
        lines = _stderr_lines(process)
        seen = _wait_for(lines, r"^checking huge\.ens before rendering: 100000 phrases, about ")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=WAIT) == 143
    finally:
        process.kill()
        process.wait(timeout=WAIT)
    assert seen == seen[-1:]  # the first thing it says
    assert sorted(_contents(tmp_path)) == ["huge.ens"]


@pytest.mark.usefixtures("glicol")
def test_a_midi_file_failing_at_the_very_end_takes_the_wav_with_it(tmp_path):
    """The MIDI file is written last, when the render closes: /dev/full refuses it (no space left),
    and the WAV, complete by then, does not appear either."""
    if not Path("/dev/full").exists():
        if os.environ.get("CI"):  # Linux always has it: CI must run this for real
            pytest.fail("no /dev/full on this system")
        pytest.skip("no /dev/full on this system")
    (tmp_path / "s.ens").write_text(SHORT)
    (tmp_path / "take.wav").write_bytes(b"an earlier take")
    before = _contents(tmp_path)
    result = _ensemble("render", "s.ens", "--out", "take.wav", "--midi", "/dev/full", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == "ensemble: cannot write /dev/full: No space left on device"
    assert _contents(tmp_path) == before

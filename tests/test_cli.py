"""The `ensemble` command as a user runs it: a real process, its files and its output."""

import subprocess
import sys

import pytest
from support.audio_analysis import read_wav


def _ensemble(*args, cwd):
    return subprocess.run([sys.executable, "-m", "ensemble", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, check=False)


@pytest.mark.usefixtures("glicol")
def test_demo_renders_telephone_wav_and_prints_the_table(tmp_path):
    result = _ensemble("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    audio, rate = read_wav(tmp_path / "telephone.wav")
    assert len(audio) / rate > 60 and abs(audio).max() > 0.1
    lines = result.stdout.splitlines()
    header = next(line for line in lines if line.startswith("agent"))
    assert "copies" in header and "first exact" in header
    rows = lines[lines.index(header) + 2: lines.index(header) + 6]
    assert [row.split()[0] for row in rows] == ["a0", "a1", "a2", "a3"]
    assert lines[lines.index(header) + 6] == "(sparkline: _ = 0%, █ = 100%)"
    commands = lines[lines.index("commands, by the phrase they landed on:") + 1:]
    assert commands[0].startswith("phrase    1: tempo 120; step 0.5; seed C4 E4 G4 C5 B4 G4 D4 _")


def test_a_bad_script_is_one_line_and_no_traceback(tmp_path):
    (tmp_path / "bad.ens").write_text("seed C4 E4\nspawn 1\nset a0 alpha=2\nwait 2\n")
    result = _ensemble("render", "bad.ens", "--out", "bad.wav", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "ensemble: bad.ens:3: alpha=2: allowed: a number from 0 to 1"
    assert not (tmp_path / "bad.wav").exists()


@pytest.mark.parametrize(("line", "said"), [
    ("seed C4:1 E4:0.3", "bad.ens:2: step 2: length '0.3' beats: must be a multiple of 1/16 beat from 0.0625 "
                         "to 16 (e.g. 0.25, 0.5, 0.75, 1, 1.5, 2)"),
    ("seed C4:17", "bad.ens:2: step 1: length '17' beats: must be a multiple of 1/16 beat"),
    ("set all rhythm=0.5,0", "bad.ens:2: rhythm=0.5,0: length '0' beats: must be a multiple of 1/16 beat"),
])
def test_a_bad_length_is_one_line_with_its_place(tmp_path, line, said):
    (tmp_path / "bad.ens").write_text(f"spawn 1\n{line}\nwait 2\n")
    result = _ensemble("render", "bad.ens", "--out", "bad.wav", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"ensemble: {said}") and len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "bad.wav").exists()


def test_a_missing_script_is_one_line(tmp_path):
    result = _ensemble("render", "nowhere.ens", "--out", "x.wav", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "cannot read script nowhere.ens" in result.stderr


def test_an_unwritable_output_is_one_line(tmp_path):
    (tmp_path / "ok.ens").write_text("spawn 1\nwait 1\n")
    result = _ensemble("render", "ok.ens", "--out", "no/such/dir/x.wav", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "cannot write no/such/dir/x.wav" in result.stderr

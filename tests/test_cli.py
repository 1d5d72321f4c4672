"""The `ensemble` command as a user runs it: a real process, its files and its output."""

import subprocess
import sys

import pytest
from support.audio_analysis import read_wav
from support.optional import required_module


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


def _laptops(folder):
    """Two laptops' journals, recorded live (on virtual clocks): bob began 1.5 s after alice."""
    from support.journals import one_note, record_laptop

    for name, note, clock_start in (("alice", "C5", 1000.0), ("bob", "A3", 1001.5)):
        record_laptop(folder / f"{name}.jsonl", one_note(note), clock_start)


@pytest.mark.usefixtures("glicol")
def test_render_of_several_journals_mixes_them_and_says_where_each_began(tmp_path):
    _laptops(tmp_path)
    result = _ensemble("render", "alice.jsonl", "bob.jsonl", "--out", "band.wav", "--midi", "band.mid",
                       cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("wrote band.wav (5.0 s, 2 laptops, ") and lines[0].endswith("x real time)")
    assert lines[1:] == ["wrote band.mid (a track per laptop's agent)",
                         "  alice  from   0.000 s     3 phrases  3.5 s",
                         "  bob    from   1.500 s     3 phrases  3.5 s"]
    audio, rate = read_wav(tmp_path / "band.wav")
    assert abs(len(audio) / rate - 5.0) < 0.01 and 0.1 < abs(audio).max() <= 0.985
    said = result.stderr.splitlines()
    assert said[0] == "laptop 1 of 2: alice (alice.jsonl)" and "laptop 2 of 2: bob (bob.jsonl)" in said
    assert "mixing 2 laptops into band.wav: 5 s of audio, 882.2 kB WAV" in said
    assert said[-1].startswith("mixing band.wav: 100% (5 of 5 seconds, in ")
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith(".")) == []


@pytest.mark.parametrize(("args", "said"), [
    (["alice.jsonl", "carol.ens"],
     "carol.ens is a script: several performances are mixed from their journals (.jsonl, one per laptop); a "
     "script renders on its own"),
    (["alice.jsonl", "nowhere.jsonl"], "cannot read nowhere.jsonl: No such file or directory"),
    (["alice.jsonl", "bob.jsonl", "--out", "bob.jsonl"],
     "--out bob.jsonl is the journal bob.jsonl being mixed: writing there would destroy it; choose another "
     "file"),
    (["alice.jsonl", "bob.jsonl", "--midi", "alice.jsonl"],
     "--midi alice.jsonl is the journal alice.jsonl being mixed: writing there would destroy it; choose "
     "another file"),
    (["alice.jsonl", "bob.jsonl", "--seed", "3"],
     "--seed has no effect when mixing journals (each replays with its own seed); leave it out"),
])
def test_a_bad_mix_is_one_line_and_writes_nothing(tmp_path, args, said):
    _laptops(tmp_path)
    (tmp_path / "carol.ens").write_text("spawn 1\nwait 1\n")
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    result = _ensemble("render", *args, *([] if "--out" in args else ["--out", "band.wav"]), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"ensemble: {said}\n"
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before


# -- ensemble analyze -------------------------------------------------------------------------------

RESEEDED = ("seed C4 E4 G4 C5\nset all palette=major:C4-D5 epsilon=0.3\nspawn 3\nwait 12\n"
            "seed D4 F4 A4 D5 C5\nwait 12\n")


def _analysed(folder):
    (folder / "s.ens").write_text(RESEEDED)
    return folder / "s.ens"


def test_analyze_prints_a_row_per_agent_and_the_recovery_after_the_change_of_the_seed(tmp_path):
    from ensemble.analysis.tables import report
    from ensemble.analysis.transcript import transcribe_file

    script = _analysed(tmp_path)
    result = _ensemble("analyze", "s.ens", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "s.ens: 24 phrases, 3 agents; each cell: its first 2 phrases → its last"
    assert lines[1].split()[:5] == ["agent", "gen", "copies", "phrases", "fidelity"]
    assert [line.split()[:4] for line in lines[3:7]] == [
        ["seed", "0", "-", "1-24"], ["a0", "1", "seed", "1-24"], ["a1", "2", "a0", "1-24"],
        ["a2", "3", "a1", "1-24"]]
    at = lines.index("phrase 13: seed D4 F4 A4 D5 C5")
    for line, label in ((lines[at + 1], "fidelity"), (lines[at + 2], "to seed")):
        assert line.startswith(f"  {label:<8}  ")
        assert [part.split()[0] for part in line[12:].split(", ")] == ["a0", "a1", "a2"]
    # the report of the session's replay, in this process
    assert lines[1:] == report(transcribe_file(script), 2).splitlines()[1:]
    assert result.stderr == ""


def test_analyze_a_journal_as_its_script(tmp_path):
    from support.journals import record_laptop

    _analysed(tmp_path)
    record_laptop(tmp_path / "take.jsonl", RESEEDED, clock_start=1000.0)
    from_script = _ensemble("analyze", "s.ens", "--window", "5", cwd=tmp_path).stdout.splitlines()
    from_journal = _ensemble("analyze", "take.jsonl", "--window", "5", cwd=tmp_path).stdout.splitlines()
    assert from_journal[0] == "take.jsonl: 24 phrases, 3 agents; each cell: its first 5 phrases → its last"
    assert from_journal[1:] == from_script[1:] and len(from_script) > 10


def test_analyze_plot_writes_a_png(tmp_path):
    required_module("matplotlib", "pip install 'ensemble[plot]'")
    _analysed(tmp_path)
    result = _ensemble("analyze", "s.ens", "--plot", "measures.png", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "wrote measures.png"
    data = (tmp_path / "measures.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == (1200, 900)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["measures.png", "s.ens"]


@pytest.mark.parametrize(("args", "said"), [
    (["analyze", "s.ens", "--plot", "s.ens"],
     "--plot s.ens is the performance being analysed: writing there would destroy it; choose another file"),
    (["analyze", "s.ens", "--plot", "no/such/dir/m.png"],
     "cannot write no/such/dir/m.png: No such file or directory"),
    (["analyze", "s.ens", "--window", "0"], "--window is a number of phrases, at least 1, not 0"),
    (["analyze", "bad.ens"], "bad.ens:2: alpha=2: allowed: a number from 0 to 1"),
    (["analyze", "nowhere.ens"], "cannot read script nowhere.ens: No such file or directory"),
    (["--to", "midi", "analyze", "s.ens"], "--to has no effect on `ensemble analyze`; leave it out"),
])
def test_analyze_refuses_in_one_line_and_writes_nothing(tmp_path, args, said):
    _analysed(tmp_path)
    (tmp_path / "bad.ens").write_text("spawn 1\nset a0 alpha=2\nwait 2\n")
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    result = _ensemble(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"ensemble: {said}\n" and result.stdout == ""
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before


def test_analyze_plot_without_matplotlib_is_one_line_before_any_work(tmp_path):
    _analysed(tmp_path)
    # matplotlib made unimportable in this process alone, as if it were not installed
    run = ("import sys; sys.modules['matplotlib'] = None; from ensemble.cli import main; "
           "sys.exit(main(sys.argv[1:]))")
    result = subprocess.run([sys.executable, "-c", run, "analyze", "s.ens", "--plot", "m.png"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 2
    assert result.stderr == "ensemble: plotting needs matplotlib: pip install 'ensemble[plot]'\n"
    assert result.stdout == "" and sorted(path.name for path in tmp_path.iterdir()) == ["s.ens"]

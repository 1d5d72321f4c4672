"""Damaged journals: what is good before the damage replays, with one warning naming the line;
a bad header is one clear line. Read directly, and through the real `ensemble` command."""

import json
import subprocess
import sys

import pytest
from support.messages import captured

from ensemble.errors import UserError
from ensemble.performance.journal import BOM, Recorder, read_journal
from ensemble.performance.script import parse_script
from ensemble.performance.sources import journal_source, load_source, script_source
from ensemble.session import Session

SCRIPT = """tempo 240
step 0.5
seed C4 E4 G4 C5
spawn 2
wait 3
set a1 voice=square alpha=0.9
wait 3
mute a0
wait 3
"""
PHRASES = 9
SEED = 3


def record(path, script=SCRIPT, seed=SEED):
    """A journal as `play --record` writes it; its lines, newlines kept."""
    session = Session(seed=seed)
    recorder = Recorder(session)
    recorder.start(path, ["wav"])
    for _ in script_source(parse_script(script), seed, "script").play(session):
        pass
    recorder.stop()
    return path.read_bytes().splitlines(keepends=True)


def checksums_before(lines, number):
    """How many phrase lines stand before line `number` (from 1)."""
    return sum(b'"checksum"' in line for line in lines[1:number - 1])


@pytest.fixture
def journal(tmp_path):
    return record(tmp_path / "good.jsonl")


def test_the_recorded_journal_is_what_the_tests_below_assume(journal):
    assert len(journal) == 1 + 4 + 3 + 1 + 3 + 1 + 3  # header, commands and phrases as the script says
    assert checksums_before(journal, len(journal) + 1) == PHRASES


@pytest.mark.parametrize(("garbage", "reason"), [
    (b"garbage\n", "not a journal line (Expecting value)"),
    (b"\xff\xfe\x00\n", "not a journal line (not UTF-8 text)"),
    (b'{"phrase":10,"checksum":"0123456789ab"}{"phrase":11}\n', "not a journal line (Extra data)"),
    (b"[" * 100_000 + b"\n", "not a journal line (nested too deeply)"),
    (b'{"phrase":1' + b"0" * 5000 + b',"checksum":"x"}\n', "not a journal line (a number too long)"),
    (b'{"phrase":1e400,"checksum":"x"}\n', "a journal line needs a phrase number"),
    (b'{"phrase":true,"checksum":"x"}\n', "a journal line needs a phrase number"),
    (b'{"phrase":12,"checksum":"0123456789ab"}\n', "phrase 12 is out of order (expected 10)"),
    (b'{"phrase":10,"checksum":17}\n', "the checksum is not text"),
    (b'{"phrase":10,"command":["spawn",1]}\n', "the command is not text"),
    (b'{"phrase":10,"command":"dance \\u001b[2J"}\n', "unknown command 'dance'"),
    (b'{"phrase":10}\n', "neither a command nor a checksum"),
])
def test_garbage_appended_keeps_every_phrase_with_one_warning(tmp_path, journal, garbage, reason):
    path = tmp_path / "appended.jsonl"
    path.write_bytes(b"".join(journal) + garbage + b'{"phrase":10,"checksum":"0123456789ab"}\n')
    read = read_journal(path)
    assert read.phrases == PHRASES
    [warning] = read.warnings
    assert warning.startswith(f"{path}:{len(journal) + 1}: {reason}")
    assert warning.endswith(f"; replaying the {PHRASES} phrases before it (1 line after it left out)")
    assert warning.isprintable()  # no escape sequence from the file reaches a terminal


def test_zeros_appended_by_a_crash_read_as_a_torn_last_line(tmp_path, journal):
    path = tmp_path / "zeros.jsonl"
    path.write_bytes(b"".join(journal) + bytes(4096))  # what a file system may leave after a power cut
    read = read_journal(path)
    assert read.phrases == PHRASES
    assert read.warnings == [f"{path}:{len(journal) + 1}: the last line was cut off (the recording was "
                             f"stopped mid-line); replaying the {PHRASES} phrases before it"]


def test_a_flipped_byte_in_any_line_keeps_the_phrases_before_that_line(tmp_path, journal):
    path = tmp_path / "flipped.jsonl"
    for number in range(2, len(journal) + 1):
        damaged = list(journal)
        damaged[number - 1] = bytes([damaged[number - 1][0] ^ 0x01]) + damaged[number - 1][1:]  # { -> z
        path.write_bytes(b"".join(damaged))
        read = read_journal(path)
        kept = checksums_before(journal, number)
        assert read.phrases == kept
        later = len(journal) - number
        assert read.warnings == [f"{path}:{number}: not a journal line (Expecting value); replaying the "
                                 f"{kept} phrase{'' if kept == 1 else 's'} before it "
                                 f"({later} line{'' if later == 1 else 's'} after it left out)"]


def test_a_damaged_journal_replays_its_good_part_exactly(tmp_path, journal):
    path = tmp_path / "flipped.jsonl"
    damaged = list(journal)
    damaged[9] = damaged[9].replace(b'"phrase"', b'"phrasE"')  # line 10: phrase 4's checksum
    path.write_bytes(b"".join(damaged))
    read = read_journal(path)
    assert read.phrases == 3 and len(read.warnings) == 1
    original = Session(seed=SEED)
    for _ in script_source(parse_script(SCRIPT), SEED, "script").play(original):
        pass
    replay = Session(seed=SEED)
    with captured() as messages:
        assert len(list(journal_source(read).play(replay))) == 3
    assert messages.warnings() == read.warnings  # said once, and no divergence: the 3 phrases are exact


VALID = {"kind": "ensemble journal", "format": 2, "version": "0.1.0", "seed": 0, "tempo": 120.0, "step": 0.5,
         "melody": "C4 E4 G4 E4 C4", "outputs": ["glicol"], "started": "2026-12-06T10:00:00+00:00"}


def _without(name):
    return {key: value for key, value in VALID.items() if key != name}


@pytest.mark.parametrize(("header", "message"), [
    ({**VALID, "seed": -1}, ":1: the header's seed must be a whole number >= 0, not -1"),
    ({**VALID, "seed": 1.5}, ":1: the header's seed must be a whole number >= 0, not 1.5"),
    ({**VALID, "seed": True}, ":1: the header's seed must be a whole number >= 0, not true"),
    ({**VALID, "seed": "7"}, ':1: the header\'s seed must be a whole number >= 0, not "7"'),
    ({**VALID, "seed": [1]}, ":1: the header's seed must be a whole number >= 0, not a list"),
    (_without("seed"), ":1: the header has no seed"),
    ({**VALID, "format": "1"}, ':1: unknown journal format "1" (this ensemble reads formats 1 to 3)'),
    ({**VALID, "format": 0}, ":1: unknown journal format 0 (this ensemble reads formats 1 to 3)"),
    ({**VALID, "format": None}, ":1: unknown journal format null (this ensemble reads formats 1 to 3)"),
    ({**VALID, "format": 2.0}, ":1: unknown journal format 2.0 (this ensemble reads formats 1 to 3)"),
    ({**VALID, "format": 4}, ":1: journal format 4 is newer than this ensemble (0.1.0) reads (format 3); "
                             "update ensemble to replay it"),
    (_without("format"), ":1: the header has no format"),
    (_without("kind"), ":1: not an ensemble journal"),
    ({**VALID, "tempo": "fast"}, ':1: the header\'s tempo is damaged ("fast")'),
    ({**VALID, "outputs": {"a": 1}}, ":1: the header's outputs is damaged (an object)"),
    ({**VALID, "started": 5}, ":1: the header's started is damaged (5)"),
])
def test_header_fields_are_checked_in_one_clear_line(tmp_path, header, message):
    path = tmp_path / "header.jsonl"
    path.write_text(json.dumps(header) + '\n{"phrase":1,"checksum":"0123456789ab"}\n')
    with pytest.raises(UserError) as raised:
        read_journal(path)
    assert str(raised.value) == f"{path}{message}"


@pytest.mark.parametrize(("content", "message"), [
    (b"[" * 100_000 + b"\n", ":1: not a journal line (nested too deeply)"),
    (b'{"kind":"ensemble journal","format":2,"seed":1' + b"0" * 5000 + b"}\n",
     ":1: not a journal line (a number too long)"),
    (b'{"kind":"ensemble journal","format":2,"seed":0,"outputs":' + b"[" * 100_000 + b"]" * 100_000 + b"}\n",
     ":1: not a journal line (nested too deeply)"),
    (b"\xff\xfe{\x00\n", ":1: not a journal line (not UTF-8 text)"),
    (b'{"kind":"ensemble journal","format":2,"seed":0}', ":1: the header line was cut off: not a journal"),
    (b"\n\n  \n", ": empty: not a journal"),
])
def test_a_header_that_cannot_be_read_is_one_clear_line(tmp_path, content, message):
    path = tmp_path / "header.jsonl"
    path.write_bytes(content)
    with pytest.raises(UserError) as raised:
        read_journal(path)
    assert str(raised.value) == f"{path}{message}"


def test_a_byte_order_mark_is_accepted(tmp_path, journal):
    path = tmp_path / "bom.txt"  # not .jsonl: told from a script by its first character after the mark
    path.write_bytes(BOM + b"".join(journal))
    read = read_journal(path)
    assert read.phrases == PHRASES and read.warnings == []
    assert load_source(path, None).phrases == PHRASES


def test_commands_a_journal_cannot_hold_are_skipped_with_a_warning(tmp_path, journal):
    path = tmp_path / "foreign.jsonl"
    damaged = list(journal)
    damaged[8:8] = [b'{"phrase":4,"beat":6.0,"time":0,"command":"wait 2"}\n',
                    b'{"phrase":4,"beat":6.0,"time":0,"command":"status"}\n']  # before phrase 4's commands
    path.write_bytes(b"".join(damaged))
    read = read_journal(path)
    assert read.phrases == PHRASES
    assert read.warnings == [f"{path}:9: 'wait' is for scripts; journals cannot use it: skipped",
                             f"{path}:10: 'status' is for the REPL; journals cannot use it: skipped"]
    with captured() as messages:
        list(journal_source(read).play(Session(seed=SEED)))
    assert messages.warnings() == read.warnings  # and the replay is exact: no divergence


def test_a_command_out_of_its_phrase_ends_the_journal_there(tmp_path, journal):
    path = tmp_path / "moved.jsonl"
    damaged = list(journal)
    damaged[8] = damaged[8].replace(b'"phrase":4', b'"phrase":2')  # `set a1 ...` said to be for phrase 2
    path.write_bytes(b"".join(damaged))
    read = read_journal(path)
    assert read.phrases == 3
    assert read.warnings[0].startswith(f"{path}:9: phrase 2 is out of order (expected 4); replaying the "
                                       "3 phrases")


# -- through the real command ------------------------------------------------------------------------


def _about(stderr, journal):
    """The lines of stderr about the journal (the render's progress lines aside)."""
    return [line for line in stderr.splitlines() if journal in line]


def _ensemble(*args, cwd):
    return subprocess.run([sys.executable, "-m", "ensemble", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, check=False)


@pytest.mark.usefixtures("glicol")
def test_the_cli_renders_the_good_part_of_a_damaged_journal_and_names_the_line(tmp_path, journal):
    damaged = list(journal)
    damaged[12] = damaged[12][:20] + b"\xc3" + damaged[12][21:]  # line 13 (`mute a0`): not UTF-8 any more
    (tmp_path / "damaged.jsonl").write_bytes(b"".join(damaged) + b"garbage appended\n")
    (tmp_path / "cut.jsonl").write_bytes(b"".join(journal[:12]))  # the lines before the damage, by hand
    broken = _ensemble("render", "damaged.jsonl", "--out", "damaged.wav", cwd=tmp_path)
    whole = _ensemble("render", "cut.jsonl", "--out", "cut.wav", cwd=tmp_path)
    assert broken.returncode == whole.returncode == 0, broken.stderr + whole.stderr
    assert _about(broken.stderr, "damaged.jsonl") == [
        "damaged.jsonl:13: not a journal line (not UTF-8 text); replaying the 6 phrases before it "
        "(4 lines after it left out)"]
    assert _about(whole.stderr, "cut.jsonl") == []
    assert "6 phrases" in broken.stdout
    assert (tmp_path / "damaged.wav").read_bytes() == (tmp_path / "cut.wav").read_bytes()


@pytest.mark.usefixtures("glicol")
def test_the_cli_replays_past_a_wait_found_in_a_journal(tmp_path, journal):
    damaged = list(journal)
    damaged[8:8] = [b'{"phrase":4,"beat":6.0,"time":0,"command":"wait 2"}\n']
    (tmp_path / "waits.jsonl").write_bytes(b"".join(damaged))
    result = _ensemble("render", "waits.jsonl", "--out", "waits.wav", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert _about(result.stderr, "waits.jsonl") == [
        "waits.jsonl:9: 'wait' is for scripts; journals cannot use it: skipped"]
    assert f"{PHRASES} phrases" in result.stdout


@pytest.mark.parametrize(("content", "message"), [
    (b"[" * 100_000 + b"\n", "ensemble: bad.jsonl:1: not a journal line (nested too deeply)"),
    (json.dumps({**VALID, "seed": -4}).encode() + b"\n",
     "ensemble: bad.jsonl:1: the header's seed must be a whole number >= 0, not -4"),
    (json.dumps({**VALID, "format": "1"}).encode() + b"\n",
     'ensemble: bad.jsonl:1: unknown journal format "1" (this ensemble reads formats 1 to 3)'),
])
def test_the_cli_refuses_a_bad_header_in_one_line(tmp_path, content, message):
    (tmp_path / "bad.jsonl").write_bytes(content)
    result = _ensemble("render", "bad.jsonl", "--out", "bad.wav", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [message]
    assert not (tmp_path / "bad.wav").exists()

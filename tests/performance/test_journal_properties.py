"""The journal reader under random input (Hypothesis): random text, random bytes, and real journals
truncated, flipped, spliced with lines, huge numbers and deep nesting. It returns a journal or
raises a one-line UserError, nothing else, and keeps every phrase before the damage."""

import json
import re
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ensemble.errors import UserError
from ensemble.performance.journal import BOM, Journal, Recorder, read_journal
from ensemble.performance.script import parse_script
from ensemble.performance.sources import script_source
from ensemble.resources import bundled
from ensemble.session import Session

# Generous: reading a few kilobytes takes milliseconds; this catches only work without bound
# (a quadratic hint, a recursion) that would hang a performer's render.
QUICKLY = timedelta(seconds=5)
EXAMPLES = settings(max_examples=300, deadline=QUICKLY, suppress_health_check=[HealthCheck.too_slow])

SCRIPT = "tempo 200\nstep 0.5\nseed C4 E4 G#4 Bb4\nspawn 3\nwait 4\nset a1 voice=square\nmute a2\nwait 4\n"


def _recorded() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "j.jsonl"
        session = Session(seed=11)
        recorder = Recorder(session)
        recorder.start(path, ["glicol"])
        for _ in script_source(parse_script(SCRIPT), 11, "script").play(session):
            pass
        recorder.stop()
        return path.read_bytes()


BUNDLED = bundled("performances") / "recorded" / "canon-2026-11-21.jsonl"
JOURNALS = {"recorded": _recorded(), "bundled format 1": BUNDLED.read_bytes()}


@pytest.fixture(scope="module")
def folder():
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def _read(folder: Path, data: bytes) -> Journal | None:
    """The journal read from `data`; None when refused, in one printable line."""
    path = folder / "j.jsonl"
    path.write_bytes(data)
    try:
        journal = read_journal(path)
    except UserError as error:
        message = str(error)
        assert message.startswith(f"{path}") and message.isprintable(), message  # one line, no escapes
        return None
    assert all(w.startswith(f"{path}:") and w.isprintable() for w in journal.warnings), journal.warnings
    return journal


def _phrase_lines_before(data: bytes, number: int) -> int:
    """Phrase (checksum) lines among lines 2 .. number-1 of an intact journal."""
    return sum(b'"checksum"' in line for line in data.split(b"\n")[1:number - 1])


def _damage_line(warnings: list[str]) -> int | None:
    """The line the one damage warning names, if any (skipped commands aside)."""
    found = [re.search(r"\.jsonl:(\d+): ", w) for w in warnings if "skipped" not in w]
    named = [int(m.group(1)) for m in found if m]
    assert len(named) <= 1, warnings  # one warning for the damage, never one per later line
    return named[0] if named else None


@EXAMPLES
@given(st.text(max_size=400))
def test_random_text(folder, text):
    _read(folder, text.encode())


@EXAMPLES
@given(st.binary(max_size=400))
def test_random_bytes(folder, data):
    _read(folder, data)


HEADER = json.dumps({"kind": "ensemble journal", "format": 2, "seed": 0})
FRAGMENTS = ['{"phrase":1,"checksum":"abc"}', '{"phrase":2,"checksum":"abc"}',
             '{"phrase":1,"command":"spawn 2"}', '{"phrase":1,"command":"wait 3"}',
             '{"phrase":1,"command":"status"}', '{"phrase":1,"command":"set"}',
             '{"phrase":1,"command":"seed C#4 Db4"}', '{"phrase":1,"command":"tempo 1e999"}',
             '{"phrase":1}', '{"phrase":-1}', '{"phrase":1e308}', "{}", "[]", "null", '"text"', "", " ", "{",
             "\x1b[2J", "\ufeff"]


@EXAMPLES
@given(st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=30)), max_size=12),
       st.sampled_from(["", "\n"]))
def test_journal_like_lines(folder, lines, end):
    _read(folder, ("\n".join([HEADER, *lines]) + end).encode())


@EXAMPLES
@given(st.sampled_from(list(JOURNALS)), st.data())
def test_truncated_anywhere_keeps_every_complete_phrase(folder, name, data):
    original = JOURNALS[name]
    cut = data.draw(st.integers(0, len(original)))
    journal = _read(folder, original[:cut])
    header_end = original.index(b"\n") + 1
    if cut < header_end:
        assert journal is None  # no whole header: nothing to replay with
        return
    assert journal is not None
    complete = original[:cut][: original[:cut].rfind(b"\n") + 1]
    assert journal.phrases == complete.count(b'"checksum"')
    assert len(journal.warnings) == (0 if cut == len(complete) else 1)  # a torn last line, said once


@EXAMPLES
@given(st.sampled_from(list(JOURNALS)), st.data())
def test_flipped_bits_keep_the_phrases_before_the_first_damaged_line(folder, name, data):
    original = bytearray(JOURNALS[name])
    positions = data.draw(st.lists(st.integers(0, len(original) - 1), min_size=1, max_size=3))
    for position in positions:
        original[position] ^= 1 << data.draw(st.integers(0, 7))
    journal = _read(folder, bytes(original))
    first = 1 + JOURNALS[name][: min(positions)].count(b"\n")  # the line of the first flip
    if first == 1:
        return  # the header: refused, or read with another value (a replay then says it diverges)
    assert journal is not None
    assert journal.phrases >= _phrase_lines_before(JOURNALS[name], first)
    damage = _damage_line(journal.warnings)
    assert damage is None or damage >= first


LINES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(FRAGMENTS),
    st.integers().map(lambda n: json.dumps({"phrase": n, "checksum": "0123456789ab"})),
    st.integers(0, 6000).map(lambda digits: '{"phrase":1' + "0" * digits + ',"checksum":"x"}'),
    st.integers(0, 120_000).map(lambda depth: "[" * depth + "]" * depth),
    st.integers(0, 120_000).map(lambda depth: '{"phrase":1,"command":' + "[" * depth + "]" * depth + "}"),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda x: json.dumps({"phrase": x, "checksum": "a"})),
)


@EXAMPLES
@given(st.sampled_from(list(JOURNALS)), st.data(), st.lists(LINES, min_size=1, max_size=3))
def test_inserted_lines_keep_the_phrases_before_them(folder, name, data, inserted):
    lines = JOURNALS[name].split(b"\n")
    at = data.draw(st.integers(1, len(lines) - 1))  # after the header
    assume(all("\n" not in line and "\r" not in line for line in inserted))
    spliced = lines[:at] + [line.encode() for line in inserted] + lines[at:]
    journal = _read(folder, b"\n".join(spliced))
    assert journal is not None  # the header is intact
    assert journal.phrases >= _phrase_lines_before(JOURNALS[name], at + 1)
    damage = _damage_line(journal.warnings)
    assert damage is None or damage >= at + 1


RAW_VALUES = st.one_of(  # JSON text of a header value
    st.one_of(st.integers(), st.floats(), st.text(max_size=10), st.none(), st.booleans()).map(json.dumps),
    st.integers(0, 100_000).map(lambda depth: "[" * depth + "]" * depth),
    st.integers(0, 6000).map(lambda digits: "1" + "0" * digits),
)


@EXAMPLES
@given(st.sampled_from(list(JOURNALS)), st.sampled_from(["seed", "format", "tempo", "outputs", "kind"]),
       RAW_VALUES)
def test_any_header_value(folder, name, field, raw):
    header, rest = JOURNALS[name].split(b"\n", 1)
    fields = {**json.loads(header), field: "PLACEHOLDER"}
    _read(folder, json.dumps(fields).replace('"PLACEHOLDER"', raw).encode() + b"\n" + rest)


@EXAMPLES
@given(st.sampled_from(list(JOURNALS)), st.booleans())
def test_a_byte_order_mark_changes_nothing(folder, name, twice):
    plain = _read(folder, JOURNALS[name])
    marked = _read(folder, BOM * (2 if twice else 1) + JOURNALS[name])
    assert plain is not None and plain.warnings == []
    if twice:  # only one mark is a mark: the second is text, and not JSON
        assert marked is None
    else:
        assert marked is not None and marked.checksums == plain.checksums and marked.warnings == []

"""Mixdowns: the journals of a laptop ensemble, really performed and recorded, replayed through
the real Glicol engine and mixed into one recording; checked by listening to it."""

import datetime
import json
import math

import mido
import numpy as np
import pytest
from support.audio_analysis import dominant_midi, read_wav
from support.journals import one_note, record_laptop
from support.messages import captured

from ensemble.dsp import SAMPLE_RATE
from ensemble.errors import UserError
from ensemble.midi.file_output import TICKS_PER_BEAT
from ensemble.performance.journal import read_journal
from ensemble.performance.mixdown import CEILING, laptop_names, mixdown
from ensemble.performance.offline import render
from ensemble.performance.sources import journal_source

pytestmark = pytest.mark.usefixtures("glicol")

# Three laptops, each able to play one note only: 3 phrases of 1 s (4 steps of a quarter second).
# Their clocks begin where the test wants: beat 0 falls 0.25 s later on each (lookahead and delay).
LAPTOPS = {"alice": ("C5", 1000.0), "bob": ("A3", 1002.3217), "carol": ("E4", 1000.75)}
PHRASE = 1.0  # seconds


def _record(tmp_path, laptops=LAPTOPS, phrases=3, agents=1):
    return {name: record_laptop(tmp_path / f"{name}.jsonl", one_note(note, phrases, agents), start)
            for name, (note, start) in laptops.items()}


def _solo(journal, path):
    """The journal's own render, as `ensemble render journal.jsonl` makes it."""
    render(journal_source(read_journal(journal)), path, show_progress=False, strict=False)
    audio, _ = read_wav(path)
    return audio


def _midi(name):
    note = LAPTOPS[name][0]
    return {"C5": 72, "A3": 57, "E4": 64}[note]


def _strength(segment, midi):
    """How strong a tone at `midi` is in `segment`, against the strongest tone there (0 to 1)."""
    spectrum = np.abs(np.fft.rfft(segment * np.hanning(len(segment))))
    frequency = 440.0 * 2 ** ((midi - 69) / 12)
    bin_ = round(frequency * len(segment) / SAMPLE_RATE)
    return spectrum[bin_ - 2: bin_ + 3].max() / spectrum.max()


def test_a_live_journal_says_when_each_phrase_began(tmp_path):
    path = record_laptop(tmp_path / "alice.jsonl", one_note("C5"), 1000.0)
    journal = read_journal(path)
    # Phrase 1 is composed before beat 0 is placed (at 1000.25): the others say where they began.
    assert journal.starts == {1: 1001.25, 2: 1002.25} and journal.phrases == 3
    lines = [json.loads(line) for line in path.read_text().splitlines()[1:]]
    assert [line.get("start") for line in lines if "checksum" in line] == [None, 1001.25, 1002.25]


def test_a_start_that_is_not_a_number_ends_the_journal_there(tmp_path):
    path = record_laptop(tmp_path / "alice.jsonl", one_note("C5"), 1000.0)
    path.write_text(path.read_text().replace('"start":1002.25', '"start":"soon"'))
    journal = read_journal(path)
    assert journal.phrases == 2 and journal.starts == {1: 1001.25}
    assert len(journal.warnings) == 1 and "the phrase's start time is not a number" in journal.warnings[0]


def test_each_laptop_is_heard_from_where_it_began(tmp_path):
    journals = _record(tmp_path)
    result = mixdown(list(journals.values()), tmp_path / "band.wav", show_progress=False)
    offsets = {part.name: part.offset for part in result.parts}
    assert offsets == {"alice": 0, "bob": round(2.3217 * SAMPLE_RATE), "carol": round(0.75 * SAMPLE_RATE)}
    assert [part.phrases for part in result.parts] == [3, 3, 3]
    mix, rate = read_wav(tmp_path / "band.wav")
    # Each laptop's notes, where only it plays: alice before carol begins, bob after carol ends.
    assert round(dominant_midi(mix[round(0.05 * rate): round(0.2 * rate)], rate)) == _midi("alice")
    bob_alone = offsets["carol"] + round(3.6 * rate)  # carol's last note and ring-out are over
    assert round(dominant_midi(mix[bob_alone: bob_alone + rate // 8], rate)) == _midi("bob")
    # What was played together sounds together: carol joins alice at her offset, bob joins them at his.
    for name, others in (("carol", ["alice"]), ("bob", ["alice", "carol"])):
        at = offsets[name]
        before, after = mix[at - rate // 5: at - rate // 50], mix[at + rate // 50: at + rate // 5]
        assert _strength(before, _midi(name)) < 0.1 and _strength(after, _midi(name)) > 0.3
        assert all(_strength(after, _midi(other)) > 0.1 for other in others)


def test_the_mix_is_each_render_placed_at_its_offset_sample_for_sample(tmp_path):
    journals = _record(tmp_path)
    result = mixdown(list(journals.values()), tmp_path / "band.wav", show_progress=False)
    mix, _ = read_wav(tmp_path / "band.wav")
    expected = np.zeros(len(mix))
    for part in result.parts:
        solo = _solo(journals[part.name], tmp_path / f"{part.name}.wav")
        expected[part.offset: part.offset + len(solo)] += solo / math.sqrt(3)
    assert np.abs(expected).max() < CEILING  # the limiter had nothing to do: the sum is exact
    assert len(mix) == -(-max(part.offset + part.frames for part in result.parts) // 128) * 128
    assert np.abs(mix - expected).max() < 3 / 32768  # rounding to 16 bits, twice, at most


def test_a_loud_mix_does_not_clip(tmp_path):
    loud = {"alice": ("C6", 1000.0), "bob": ("B6", 1000.0), "carol": ("C7", 1000.0)}
    journals = _record(tmp_path, loud, phrases=2, agents=12)
    solos = [_solo(path, tmp_path / f"{name}.solo.wav") for name, path in journals.items()]
    assert np.abs(sum(solos) / math.sqrt(3)).max() > 1.0  # summed plainly, it would clip
    mixdown(list(journals.values()), tmp_path / "band.wav", show_progress=False)
    mix, _ = read_wav(tmp_path / "band.wav")
    assert 0.5 < np.abs(mix).max() <= 0.985


def test_one_journal_mixes_to_its_own_render_byte_for_byte(tmp_path):
    journal = _record(tmp_path, {"alice": LAPTOPS["alice"]})["alice"]
    mixdown([journal], tmp_path / "mix.wav", show_progress=False)
    render(journal_source(read_journal(journal)), tmp_path / "own.wav", show_progress=False, strict=False)
    assert (tmp_path / "mix.wav").read_bytes() == (tmp_path / "own.wav").read_bytes()


def test_the_midi_is_a_track_per_agent_aligned_as_the_audio(tmp_path):
    journals = _record(tmp_path, {name: LAPTOPS[name] for name in ("alice", "bob")})
    mixdown(list(journals.values()), tmp_path / "band.wav", midi=tmp_path / "band.mid", show_progress=False)
    midi = mido.MidiFile(tmp_path / "band.mid")
    names = [next(m.name for m in track if m.type == "track_name") for track in midi.tracks[1:]]
    assert names == ["alice/a0", "bob/a0"]
    firsts = []
    for track in midi.tracks[1:]:
        tick = 0
        for message in track:
            tick += message.time
            if message.type == "note_on":
                firsts.append((message.note, tick))
                break
    beats = 2.3217 * 2  # bob began 2.3217 s after alice, at 120 beats a minute
    assert firsts == [(72, 0), (57, round(beats * TICKS_PER_BEAT))]


def _note_ons(path):
    """(note, second) of every note played by the file, as a MIDI player times it (mido's)."""
    now, notes = 0.0, []
    for message in mido.MidiFile(path):
        now += message.time
        if message.type == "note_on" and message.velocity:
            notes.append((message.note, now))
    return notes


def test_laptops_at_other_tempi_are_heard_in_the_midi_when_they_played(tmp_path):
    laptops = {"alice": ("C5", 1000.0), "bob": ("A3", 1002.3217)}
    journals = {name: record_laptop(tmp_path / f"{name}.jsonl", one_note(note, tempo=tempo), start)
                for (name, (note, start)), tempo in zip(laptops.items(), (120, 90), strict=True)}
    mixdown(list(journals.values()), tmp_path / "band.wav", midi=tmp_path / "band.mid", show_progress=False)
    expected = []
    for name, offset in (("alice", 0.0), ("bob", 2.3217)):
        render(journal_source(read_journal(journals[name])), tmp_path / f"{name}.wav",
               midi=tmp_path / f"{name}.mid", show_progress=False, strict=False)
        expected += [(note, at + offset) for note, at in _note_ons(tmp_path / f"{name}.mid")]
    heard, expected = _note_ons(tmp_path / "band.mid"), sorted(expected, key=lambda note: note[1])
    assert len(heard) == len(expected) == 2 * 3 * 4
    for (note, at), (expected_note, expected_at) in zip(heard, expected, strict=True):
        assert note == expected_note and abs(at - expected_at) < 0.001  # a tick at 120 is 1 ms


def test_a_journal_that_does_not_say_when_it_began_is_placed_by_its_header(tmp_path):
    journals = _record(tmp_path, {name: LAPTOPS[name] for name in ("alice", "bob")})
    lines = [json.loads(line) for line in journals["bob"].read_text().splitlines()]
    lines[0]["started"] = datetime.datetime.fromtimestamp(1002, datetime.timezone.utc).isoformat()
    old = [{key: value for key, value in line.items() if key != "start"} for line in lines]
    journals["bob"].write_text("".join(json.dumps(line) + "\n" for line in old))  # as before starts
    with captured() as messages:
        result = mixdown(list(journals.values()), tmp_path / "band.wav", show_progress=False)
    assert "bob: its journal does not say when its phrases began (recorded before ensemble said so, or not " \
           "live); placed where its recording began, to the second" in messages
    assert [part.offset for part in result.parts] == [0, round(1.75 * SAMPLE_RATE)]  # 1002 - 1000.25


def test_laptops_that_never_played_together_are_refused_before_any_work(tmp_path):
    journals = _record(tmp_path, {"alice": ("C5", 1000.0), "bob": ("A3", 1000.0 + 3600)})
    with pytest.raises(UserError, match=r"^bob began 59 min after alice had stopped: they did not play "
                                        r"together \(a journal of another performance\?\)$"):
        mixdown(list(journals.values()), tmp_path / "band.wav", show_progress=False)
    assert not (tmp_path / "band.wav").exists()


def _left(tmp_path):
    return sorted(path.name for path in tmp_path.iterdir())


@pytest.mark.parametrize(("make", "message"), [
    (lambda folder: (folder / "carol.ens").write_text("spawn 1\nwait 1\n"),
     r"^{folder}/carol.ens is a script: several performances are mixed from their journals \(.jsonl, one per "
     r"laptop\); a script renders on its own$"),
    (lambda folder: None, r"^cannot read {folder}/carol.ens: No such file or directory$"),
])
def test_an_input_that_is_no_journal_is_one_line_and_nothing_is_written(tmp_path, make, message):
    journals = _record(tmp_path, {"alice": LAPTOPS["alice"]})
    make(tmp_path)
    before = _left(tmp_path)
    with pytest.raises(UserError, match=message.format(folder=tmp_path)):
        mixdown([journals["alice"], tmp_path / "carol.ens"], tmp_path / "band.wav", show_progress=False)
    assert _left(tmp_path) == before


def test_a_journal_given_twice_is_refused(tmp_path):
    journals = _record(tmp_path, {"alice": LAPTOPS["alice"]})
    again = tmp_path / "also-alice.jsonl"
    again.symlink_to(journals["alice"])  # one file under two names
    with pytest.raises(UserError, match=r"also-alice.jsonl is given twice \(as .*/alice.jsonl and "
                                        r".*/also-alice.jsonl\): give each laptop's journal once$"):
        mixdown([journals["alice"], again], tmp_path / "band.wav", show_progress=False)


def test_nothing_is_left_beside_the_output_but_the_output(tmp_path):
    journals = _record(tmp_path, {name: LAPTOPS[name] for name in ("alice", "bob")})
    before = _left(tmp_path)
    mixdown(list(journals.values()), tmp_path / "band.wav", midi=tmp_path / "band.mid", show_progress=False)
    assert _left(tmp_path) == sorted([*before, "band.wav", "band.mid"])  # no renders, no partial files


def test_laptops_are_named_after_their_journals():
    from pathlib import Path

    assert laptop_names([Path("a/alice.jsonl"), Path("b/alice.jsonl"), Path("bob.jsonl"), Path("alice")]) == \
        ["alice", "alice-2", "bob", "alice-3"]

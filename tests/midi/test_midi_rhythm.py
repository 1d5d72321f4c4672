"""Rhythm on the MIDI outputs: note-offs at each note's own length, live over a realtime JACK and
in the Standard MIDI File (read back with mido, and independently with pretty_midi)."""

import subprocess
import sys
import time
from itertools import accumulate

import mido
import pytest
from support import services
from support.jack_midi import Synth
from support.listener import Listener
from support.optional import required_module
from support.waiting import perform

from ensemble.clock import RealtimeClock, VirtualClock
from ensemble.conductor import Conductor
from ensemble.events import ARTICULATION, Part, Phrase, Sound
from ensemble.melody import REST
from ensemble.midi.file_output import MidiFileOutput
from ensemble.midi.port_output import MidiOutput, pulse_offsets
from ensemble.mix import Mix
from ensemble.tempo import TempoMap

TEMPO = 120.0
BEAT = 60.0 / TEMPO  # seconds
TICKS = 480
ON_TIME = 0.005  # seconds: arrival against due time on a realtime jackd of 64-frame periods (1.3 ms)

# Two phrases of 4 beats, two agents. a1's D4 ran past the first phrase and was cut at its end;
# a0's A4 ends the first phrase and starts the second, so it must be struck twice.
FIRST = {"a0": [(60, 1), (64, 0.5), (67, 0.5), (REST, 1), (69, 1)],
         "a1": [(55, 0.25), (57, 0.75), (59, 0.0625), (60, 0.9375), (62, 2)]}
SECOND = {"a0": [(69, 2), (67, 1.5), (REST, 0.5)],
          "a1": [(72, 0.125), (71, 0.375), (69, 3.5)]}


def rhythmic(index, start_beat, parts, length_beats=4.0, tempo=TEMPO):
    """A phrase whose parts carry their lengths, agent aN on channel N+1."""
    return Phrase(index, start_beat, 0.5, tempo,
                  tuple(Part(agent, tuple(n for n, _ in notes), Sound(channel=int(agent[1:]) + 1),
                             lengths=tuple(float(length) for _, length in notes))
                        for agent, notes in parts.items()),
                  n_steps=5, length_beats=length_beats)


def expected_notes(phrases):
    """(channel, note, start beat, note-off beat) of each note played, by start then channel."""
    found = []
    for phrase in phrases:
        for part in phrase.parts:
            lengths = part.lengths or ()
            starts = list(accumulate(lengths, initial=phrase.start_beat))[:-1]
            for note, length, start in zip(part.notes, lengths, starts, strict=True):
                if note != REST:
                    found.append((part.sound.channel - 1, note, start, start + length * ARTICULATION))
    return sorted(found, key=lambda n: (n[2], n[0]))


PHRASES = [rhythmic(0, 0.0, FIRST), rhythmic(1, 4.0, SECOND)]
NOTES = expected_notes(PHRASES)


def test_the_expected_notes_are_what_the_phrases_say():
    assert len(NOTES) == 4 + 5 + 2 + 3
    assert (1, 62, 2.0, 2.0 + 2 * 0.95) in NOTES  # the cut D4 ends inside its phrase
    assert [(n, on) for c, n, on, _ in NOTES if c == 0 and n == 69] == [(69, 3.0), (69, 4.0)]


# -- live, over JACK ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def realtime_jack(tmp_path_factory):
    """A jackd of this module's own, realtime and with short periods: what judges timing."""
    services.require_servers()
    with services.Jack(rate=48000, period=64, realtime=True,
                       directory=tmp_path_factory.mktemp("jack")) as server:
        yield server


@pytest.fixture
def jack_midi(realtime_jack, monkeypatch):
    for key in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER"):
        monkeypatch.setenv(key, realtime_jack.env[key])
    return realtime_jack


def _perform(phrases, output, tempo=TEMPO, mix=None, during=None):
    """Plays `phrases` to `output` and a listener, in real time; returns (conductor, synth, notes)."""
    synth = Synth()
    listener = Listener()
    conductor = Conductor(iter(phrases), TempoMap(tempo), [output, listener], RealtimeClock(),
                          lookahead=0.1, mix=mix)
    perform(conductor, during)
    synth.close()
    return conductor, synth, listener.notes


def _pairs(synth):
    """(channel, note, on time, off time) of each note received, by note-on time, then channel
    (notes struck together share their JACK frame: one time)."""
    sounding, pairs = {}, []
    for at, message in synth.received:
        if message.type == "note_on" and message.velocity > 0:
            sounding[(message.channel, message.note)] = at
        elif message.type in ("note_on", "note_off"):
            on = sounding.pop((message.channel, message.note))
            pairs.append((message.channel, message.note, on, at))
    assert not sounding, f"left sounding: {sounding}"
    return sorted(pairs, key=lambda pair: (pair[2], pair[0]))


def _late_allowed(jack, log_from):
    """ON_TIME, and a period for each cycle JACK logged as missed since `log_from` (over-counted:
    a line per client), since a message may then cross it late: on a quiet run, ON_TIME alone."""
    return ON_TIME + jack.xruns_since(log_from) * jack.period / jack.rate


def test_each_note_starts_and_ends_at_its_own_length(jack_midi):
    log_from = jack_midi.log_position()
    conductor, synth, handed = _perform(PHRASES, MidiOutput("synth", "jack"))
    on_time = _late_allowed(jack_midi, log_from)
    assert sorted(note.duration for note in handed) == pytest.approx(
        sorted((off - on) / ARTICULATION * BEAT for _, _, on, off in NOTES))
    pairs = _pairs(synth)
    assert [(c, n) for c, n, _, _ in pairs] == [(c, n) for c, n, _, _ in NOTES]
    for (_, _, on, off), (_, _, on_beat, off_beat) in zip(pairs, NOTES, strict=True):
        assert abs(on - (conductor.origin + on_beat * BEAT)) < on_time
        assert abs(off - (conductor.origin + off_beat * BEAT)) < on_time
    # The cut D4 is over before the second phrase starts; the A4 that ends the first is struck anew.
    boundary = conductor.origin + 4 * BEAT
    d4 = next(pair for pair in pairs if pair[:2] == (1, 62))
    assert d4[3] < boundary
    a4s = [pair for pair in pairs if pair[:2] == (0, 69)]
    assert a4s[0][3] < boundary <= a4s[1][2] + ON_TIME


def test_a_mute_ends_a_long_note_at_once_and_an_unmute_is_heard_from_the_next_onset(jack_midi):
    long_notes = {"a0": [(60, 2)] * 4,
                  "a1": [(64, 3), (67, 0.75), (69, 0.25), (71, 1.5), (72, 2.5)]}  # onsets 0, 3, 3.75, 4, 5.5
    phrase = rhythmic(0, 0.0, long_notes, length_beats=8.0)
    everyone = Mix(sounds={agent: (part.sound, part.velocity) for agent, part in
                           zip(long_notes, phrase.parts, strict=True)})
    mixes = [everyone]
    moments = {}

    def mute_then_unmute(conductor):
        while conductor.origin == 0.0:
            time.sleep(0.001)
        time.sleep(max(0.0, conductor.origin + 1.5 * BEAT - time.monotonic()))  # mid E4 (beats 0 to 3)
        moments["muted"] = time.monotonic()
        mixes[0] = Mix(muted=frozenset({"a1"}), sounds=everyone.sounds)
        time.sleep(max(0.0, conductor.origin + 4.5 * BEAT - time.monotonic()))  # after B4's onset
        mixes[0] = Mix(sounds=everyone.sounds)

    conductor, synth, _ = _perform([phrase], MidiOutput("synth", "jack"), mix=lambda: mixes[0],
                                   during=mute_then_unmute)
    a1 = [(at, m) for at, m in synth.received if getattr(m, "channel", None) == 1]
    kinds = [(m.type, getattr(m, "note", getattr(m, "control", None))) for _, m in a1]
    assert kinds == [("note_on", 64), ("control_change", 123), ("note_off", 64),
                     ("note_on", 72), ("note_off", 72)]
    stopped = a1[1][0]
    assert moments["muted"] < stopped < moments["muted"] + 0.1 + 0.03  # within the lookahead (and a poll)
    assert abs(a1[3][0] - (conductor.origin + 5.5 * BEAT)) < ON_TIME  # C5 at its own onset
    assert abs(a1[4][0] - (conductor.origin + (5.5 + 2.5 * ARTICULATION) * BEAT)) < ON_TIME
    a0 = [m for _, m in synth.received if getattr(m, "channel", None) == 0]
    assert [m.type for m in a0] == ["note_on", "note_off"] * 4  # a0 played on, untouched


def test_the_midi_clock_keeps_to_the_beat_across_phrases_of_odd_sixteenths(jack_midi):
    length = 1.0625  # 25.5 pulses
    phrases = [rhythmic(i, i * length, {"a0": [(60, length)]}, length_beats=length) for i in range(4)]
    log_from = jack_midi.log_position()
    conductor, synth, _ = _perform(phrases, MidiOutput("synth", "jack", clock_out=True))
    pulse = BEAT / 24
    arrivals = [at for at, m in synth.received if m.type == "clock"]
    # Each pulse on the performance's grid of 1/24 beat, at most one on each point of it.
    grid = [round((at - conductor.origin) / pulse) for at in arrivals]
    on_time = _late_allowed(jack_midi, log_from)
    for at, k in zip(arrivals, grid, strict=True):
        assert abs(at - (conductor.origin + k * pulse)) < on_time
    assert len(set(grid)) == len(grid)
    lost = min(jack_midi.xruns_since(log_from), 2)  # a missed cycle may drop an event
    assert 4 * 25.5 - lost <= len(arrivals) <= 4 * 25.5
    assert [m.type for _, m in synth.received if m.type in ("start", "stop")] == ["start", "stop"]


# -- clock pulses, without a port ---------------------------------------------------------------


def test_pulses_of_a_phrase_of_steps_are_those_of_the_same_rhythm_written_out():
    steps = Phrase(3, 6.0, 0.5, TEMPO, (Part("a0", (60, 62, 64, 65)),), 4)
    written = Phrase(3, 6.0, 0.5, TEMPO, (Part("a0", (60, 62, 64, 65), lengths=(0.5,) * 4),), 4,
                     length_beats=2.0)
    assert pulse_offsets(steps) == pulse_offsets(written) == [float(k) for k in range(48)]


def test_pulses_of_odd_sixteenths_fall_on_the_performances_grid():
    first = Phrase(0, 0.0, 0.5, TEMPO, (), 1, length_beats=1.0625)
    second = Phrase(1, 1.0625, 0.5, TEMPO, (), 1, length_beats=1.0625)
    assert pulse_offsets(first) == [float(k) for k in range(26)]  # pulses 0..25; 25.5 is the next's
    assert pulse_offsets(second) == [k + 0.5 for k in range(25)]  # pulses 26..50, half a pulse in


# -- the Standard MIDI File ---------------------------------------------------------------------


def _write(tmp_path, phrases, name="rhythm.mid"):
    """The phrases through a conductor on a virtual clock, into a MIDI file."""
    path = tmp_path / name
    Conductor(iter(phrases), TempoMap(phrases[0].tempo), [MidiFileOutput(path)], VirtualClock()).run()
    return path


def _file_notes(path):
    """(channel, note, on tick, off tick) of each note in the file, by on tick then channel."""
    found = []
    for track in mido.MidiFile(path).tracks[1:]:
        tick, sounding = 0, {}
        for message in track:
            tick += message.time
            key = (message.channel, message.note) if message.type.startswith("note") else None
            if message.type == "note_on":
                sounding[key] = tick
            elif message.type == "note_off":
                found.append((*key, sounding.pop(key), tick))
        assert not sounding
    return sorted(found, key=lambda n: (n[2], n[0]))


def test_the_file_has_each_notes_start_and_end_at_its_own_length(tmp_path):
    path = _write(tmp_path, PHRASES)
    assert _file_notes(path) == [(c, n, round(on * TICKS), round(off * TICKS)) for c, n, on, off in NOTES]
    d4 = next(n for n in _file_notes(path) if n[:2] == (1, 62))
    assert d4[3] == round(3.9 * TICKS) < 4 * TICKS  # the note cut at the boundary ends inside it
    for track in mido.MidiFile(path).tracks:
        assert sum(message.time for message in track) == 8 * TICKS  # the file ends with the phrases


def test_pretty_midi_reads_the_same_starts_and_ends(tmp_path):
    pretty_midi = required_module("pretty_midi", "pip install -e '.[test]'")
    path = _write(tmp_path, PHRASES)
    read = pretty_midi.PrettyMIDI(str(path))
    heard = sorted(((instrument.name, note.pitch, note.start, note.end)
                    for instrument in read.instruments for note in instrument.notes),
                   key=lambda n: (n[2], n[0]))
    assert [(name, pitch) for name, pitch, _, _ in heard] == [(f"a{c}", n) for c, n, _, _ in NOTES]
    tick = BEAT / TICKS  # seconds: the file's resolution
    for (_, _, start, end), (_, _, on, off) in zip(heard, NOTES, strict=True):
        assert abs(start - on * BEAT) <= tick and abs(end - off * BEAT) <= tick
    assert abs(read.get_end_time() - max(off for *_, off in NOTES) * BEAT) <= tick


def test_a_rhythm_of_whole_steps_writes_the_bytes_of_the_same_steps(tmp_path):
    notes = (60, 64, REST, 67, 72, 71)
    steps = [Phrase(i, i * 3.0, 0.5, TEMPO, (Part("a0", notes, Sound(program=5)),), 6) for i in range(3)]
    written = [Phrase(i, i * 3.0, 0.5, TEMPO, (Part("a0", notes, Sound(program=5), lengths=(0.5,) * 6),), 6,
                      length_beats=3.0) for i in range(3)]
    steps_file, written_file = _write(tmp_path, steps, "steps.mid"), _write(tmp_path, written, "written.mid")
    assert steps_file.read_bytes() == written_file.read_bytes()


# -- end to end: `ensemble play` of a chain that learned a rhythm -----------------------------

LEARNED = """tempo 240
seed C4:1 E4:0.5 G4:0.5 _:1 A4:2
set all palette=chromatic:C4-B4 rhythm=0.5,1,2 epsilon=0 alpha=1
spawn 1
train a0 40
wait 3
"""


def test_ensemble_play_sends_note_offs_at_the_learned_lengths(jack_midi, tmp_path):
    """The agent trained silently first, so every phrase heard is the seed: each note-off comes
    its own length (times the articulation) after its note-on."""
    (tmp_path / "learned.ens").write_text(LEARNED)
    synth = Synth()
    try:
        command = [sys.executable, "-m", "ensemble", "play", "learned.ens", "--to", "midi:synth",
                   "--midi-backend", "jack"]
        played = subprocess.run(command, cwd=tmp_path, env=jack_midi.env, capture_output=True, text=True,
                                timeout=60, check=False)
        time.sleep(0.1)  # the last messages cross JACK's next period
    finally:
        synth.close()
    assert played.returncode == 0, played.stderr
    beat = 60.0 / 240
    begun, heard = {}, []
    for at, message in synth.received:
        if message.type == "note_on" and message.velocity > 0:
            begun[message.note] = at
        elif message.type in ("note_off", "note_on") and message.note in begun:
            heard.append((message.note, at - begun.pop(message.note)))
    written = [(60, 1), (64, 0.5), (67, 0.5), (69, 2)]  # the seed's sounding notes, in beats
    assert [note for note, _ in heard] == [note for note, _ in written] * 3
    for (note, held), (_, length) in zip(heard, written * 3, strict=True):
        assert abs(held - length * ARTICULATION * beat) <= ON_TIME, (note, held)

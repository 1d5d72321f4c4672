"""End to end with rhythm: a chain learns a seed of mixed lengths, and the rendered WAV and MIDI
file are checked against the seed: onsets (detected in the audio), pitches, starts and lengths."""

import mido
import pytest
from support.audio_analysis import dominant_midi, onsets, read_wav

from ensemble.events import ARTICULATION
from ensemble.melody import REST, Melody
from ensemble.performance.offline import render_script
from ensemble.performance.script import parse_script

pytestmark = pytest.mark.usefixtures("glicol")

SEED = "C4:1 E4:0.5 G4:0.5 _:1 A4:2"  # 5 beats: at 120 bpm a phrase of 2.5 s
LEARNING = f"""
tempo 120
seed {SEED}
set all palette=chromatic:C4-B4 rhythm=0.5,1,2 epsilon=0 alpha=1
spawn 1
wait 50
"""


def _written():
    """(onset in beats, length in beats, note) of each sounding note of the seed."""
    melody, at, found = Melody.parse(SEED), 0.0, []
    for note, ticks in zip(melody.notes, melody.ticks(8), strict=True):
        if note != REST:
            found.append((at, ticks / 16, note))
        at += ticks / 16
    return found


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rhythm")
    result = render_script(parse_script(LEARNING), folder / "out.wav", midi=folder / "out.mid", seed=1,
                           show_progress=False)
    return result, folder


def test_the_agent_learned_the_notes_and_the_lengths(rendered):
    result, _ = rendered
    (last,) = result.session.history.attempts[-1]
    assert last.accuracy == 1.0
    assert Melody(last.played, last.lengths) == Melody.parse(SEED)


def test_the_audio_of_the_last_phrase_has_the_seeds_onsets_and_pitches(rendered):
    result, folder = rendered
    audio, rate = read_wav(folder / "out.wav")
    start = result.phrase_starts[-1]
    phrase = audio[start: start + round(2.5 * rate)]
    heard = onsets(phrase, rate)
    written = _written()
    assert len(heard) == len(written)
    beat = rate / 2  # samples a beat at 120 bpm
    for at, (onset, length, note) in zip(heard, written, strict=True):
        assert abs(at - onset * beat) <= 0.003 * rate  # within 3 ms of the written onset
        body = phrase[at + round(0.02 * rate): at + round(length * beat * 0.6)]
        assert round(dominant_midi(body, rate)) == note


def test_the_midi_file_has_the_seeds_starts_and_lengths(rendered):
    _, folder = rendered
    midi = mido.MidiFile(folder / "out.mid")
    per_beat = midi.ticks_per_beat
    track = next(track for track in midi.tracks if any(m.type == "note_on" for m in track))
    now, sounding, notes = 0, {}, []
    for message in track:
        now += message.time
        if message.type == "note_on" and message.velocity > 0:
            sounding[message.note] = now
        elif message.type in ("note_off", "note_on") and message.note in sounding:
            begun = sounding.pop(message.note)
            notes.append((begun / per_beat, (now - begun) / per_beat, message.note))
    phrase_start = 49 * 5.0  # the 50th phrase of 5 beats
    last = [(at - phrase_start, length, note) for at, length, note in notes if at >= phrase_start]
    expected = [(at, length * ARTICULATION, note) for at, length, note in _written()]
    assert len(last) == len(expected)
    for (at, length, note), (want_at, want_length, want_note) in zip(last, expected, strict=True):
        assert note == want_note
        assert abs(at - want_at) <= 1 / per_beat and abs(length - want_length) <= 1 / per_beat

"""Rhythmic phrases through the real Glicol engine: each note heard at its own onset, for its length.

Phrases are built by hand as the session builds them (parts with lengths in beats that fill the
phrase), rendered offline to a WAV or live through the sequencer, and listened to: onsets by
energy, pitches by spectrum, and how long each note sounds.
"""

import numpy as np
import pytest
from support.audio_analysis import dominant_midi, onsets, read_wav, sounding_until

from ensemble.clock import VirtualClock
from ensemble.events import Part, Phrase, Sound
from ensemble.glicol.engine import BLOCK, SAMPLE_RATE, GlicolEngine
from ensemble.glicol.lanes import onset_sample
from ensemble.glicol.program import load_voices
from ensemble.glicol.sequencer import GlicolSequencer, bpm_for_bar
from ensemble.glicol.wav_output import GlicolWavOutput
from ensemble.melody import REST, Melody
from ensemble.rhythm import TICKS_PER_BEAT

pytestmark = pytest.mark.usefixtures("glicol")
RATE = SAMPLE_RATE
SEED = "C4:1 E4:0.5 G4:0.5 _:1 A4:2"  # 5 beats; at 120 bpm 2.5 s


def _part(agent, text, voice="saw"):
    melody = Melody.parse(text)
    return Part(agent, melody.notes, Sound(voice), lengths=tuple(t / TICKS_PER_BEAT for t in melody.ticks(4)))


def _phrase(index, parts, tempo=120.0, silent=()):
    beats = sum(parts[0].lengths)
    return Phrase(index, index * beats, 0.25, tempo, tuple(parts), len(parts[0].notes), tuple(silent),
                  length_beats=beats)


def _written(part, tempo=120.0):
    """(onset, length) in seconds and the note, of each sounding note of `part`, as written."""
    beat, at, found = 60.0 / tempo, 0.0, []
    for note, length in zip(part.notes, part.lengths, strict=True):
        if note != REST:
            found.append((at * beat, length * beat, note))
        at += length
    return found


def _play(sequencer, cues, tail_blocks=300):
    """Each (phrase, start sample, with_silent) scheduled in turn, rendered up to the next one's
    landing, then silence; the left channel."""
    chunks = []
    for phrase, start, with_silent in cues:
        sequencer.schedule(phrase, start, with_silent)
        chunks.append(sequencer.render(sequencer.hungry_at() - sequencer.blocks_done))
    last, start = cues[-1][0], cues[-1][1]
    sequencer.silence_from(start + round(last.beats * 60.0 / last.tempo * RATE))
    chunks.append(sequencer.render(sequencer.hungry_at() - sequencer.blocks_done + tail_blocks))
    return np.concatenate(chunks)[:, 0, :].ravel()


def _sequencer():
    return GlicolSequencer(GlicolEngine(on_message=pytest.fail), load_voices())


def test_a_seed_of_mixed_lengths_is_heard_note_by_note_at_its_onsets_for_its_lengths(tmp_path):
    part = _part("a0", SEED)
    output = GlicolWavOutput(tmp_path / "rhythm.wav")
    output.open(VirtualClock())
    output.phrase(_phrase(0, [part]), 0.0)
    output.phrase(_phrase(1, [part]), 2.5)
    output.end(5.0)
    output.close()
    audio, rate = read_wav(tmp_path / "rhythm.wav")
    starts = output.phrase_starts[:2]  # then the silence after the end
    assert starts == [0, round(2.5 * rate)]  # one grid: the second phrase follows sample-exact
    written = [(start + round(onset * rate), round(length * rate), note)
               for start in starts for onset, length, note in _written(part)]
    expected = [at for at, _, _ in written]
    assert [at / rate for at in expected[:4]] == [0.0, 0.5, 0.75, 1.5]
    heard = onsets(audio, rate)
    assert len(heard) == len(expected), (heard, expected)
    assert np.abs(np.array(heard) - expected).max() <= 0.002 * rate  # within 2 ms (see the next test)
    for (at, length, note), after in zip(written, [*expected[1:], len(audio)], strict=True):
        assert round(dominant_midi(audio[at + 400: at + 400 + min(length // 2, 8000)], rate)) == note
        # The envelope lasts 0.9 of the note (plus its 5 ms attack): it ends before the next note.
        ends = sounding_until(audio, rate, at, min(after, at + 2 * length) - 100)
        assert 0.85 * length < ends - at < 0.95 * length, (note, (ends - at) / length)


@pytest.mark.parametrize(("tempo", "voice"), [(120.0, "square"), (97.0, "saw")])
def test_each_onset_is_sample_exact_on_the_phrase_grid(tempo, voice):
    """In a second phrase, one note an octave lower: the audio first differs where that note
    starts, on the phrase's tick grid, rounded as Glicol places a step (onset_sample), within a
    sample of exact. (B5, the loudest, sets the part's level: it stays.)"""
    full = _part("a0", "C4:1 E4:0.5 G4:0.25 B5:0.25 _:1 A4:2", voice)
    ticks, samples = 5 * TICKS_PER_BEAT, round(5.0 * 60.0 / tempo * RATE)
    bar = 240.0 / bpm_for_bar(samples) * RATE
    tick = 0
    for index, (note, length) in enumerate(zip(full.notes, full.lengths, strict=True)):
        if note not in (REST, max(full.notes)):
            lower = list(full.notes)
            lower[index] = note - 12
            second = Part("a0", tuple(lower), full.sound, lengths=full.lengths)
            sequencers = [_sequencer(), _sequencer()]
            audio = [_play(sequencer, [(_phrase(0, [full], tempo), 0, False),
                                       (_phrase(1, [part], tempo), samples, False)], tail_blocks=0)
                     for sequencer, part in zip(sequencers, (full, second), strict=True)]
            start = sequencers[0].phrase_starts[1]
            assert start == samples  # on the first phrase's grid
            differs = int(np.flatnonzero(audio[0] != audio[1])[0]) - start
            # Silent at its trigger, heard from the next sample (saw's low-pass: the one after).
            assert differs - onset_sample(tick, ticks, bar) == (2 if voice == "saw" else 1)
            assert abs(onset_sample(tick, ticks, bar) - tick * samples / ticks) < 1
        tick += round(length * TICKS_PER_BEAT)


def test_new_rhythms_phrase_after_phrase_keep_one_grid():
    """Another rhythm in the same phrase length changes notes, not chains: no new grid."""
    rhythms = [SEED, "C4:0.5 E4:0.5 G4:1 A4:1 _:2", "C4:2 E4:1 G4:0.5 A4:0.5 _:1"]
    phrases = [_phrase(i, [_part("a0", text)]) for i, text in enumerate(rhythms)]
    samples = round(2.5 * RATE)  # not a whole number of blocks: a new grid would land early
    sequencer = _sequencer()
    audio = _play(sequencer, [(phrase, i * samples, False) for i, phrase in enumerate(phrases)])
    assert sequencer.phrase_starts[:3] == [0, samples, 2 * samples]  # then the silence
    expected = [i * samples + round(onset * RATE) for i, phrase in enumerate(phrases)
                for onset, _, _ in _written(phrase.parts[0])]
    heard = onsets(audio, RATE)
    assert len(heard) == len(expected) and np.abs(np.array(heard) - expected).max() <= 0.002 * RATE


def test_two_agents_each_play_their_own_rhythm():
    """Each agent heard apart: the mix, less the same mix with that agent resting (the engine sums
    its chains, so the difference is that agent's sound as mixed)."""
    a0, a1 = _part("a0", "C4:1 E4:1 G4:2", "square"), _part("a1", "_:0.5 C5:0.5 _:0.5 D5:1.5 E5:1", "tri")

    def resting(part):
        return Part(part.agent, (REST,) * len(part.notes), part.sound, lengths=part.lengths)

    mix = _play(_sequencer(), [(_phrase(0, [a0, a1]), 0, False)])
    for part, others in ((a0, [resting(a0), a1]), (a1, [a0, resting(a1)])):
        alone = mix - _play(_sequencer(), [(_phrase(0, others), 0, False)])
        written = _written(part)
        heard = onsets(alone, RATE)
        assert len(heard) == len(written), (part.agent, heard)
        expected = [round(onset * RATE) for onset, _, _ in written]
        assert np.abs(np.array(heard) - expected).max() <= 0.002 * RATE
        assert [round(dominant_midi(alone[at + 400: at + 4400], RATE)) for at in heard] == [
            note for _, _, note in written]


def test_a_long_phrase_of_few_notes_splits_only_the_steps_it_needs():
    """8 beats, a note on the 33rd sixteenth: the seq is 16 steps, one split in 8, not 128 steps."""
    part = _part("a0", "C4:2.0625 E4:1.9375 G4:4")
    sequencer = _sequencer()
    programs = []
    update = sequencer.engine.update
    sequencer.engine.update = lambda code: (programs.append(code), update(code))[1]
    audio = _play(sequencer, [(_phrase(0, [part]), 0, False)])
    steps = [line.split(">>")[0].split()[2:] for line in programs[0].splitlines()]
    assert max(len(line) for line in steps) <= 16 and "_64______" in steps[0]  # E4 on the 33rd
    expected = [round(onset * RATE) for onset, _, _ in _written(part)]
    heard = onsets(audio, RATE)
    assert len(heard) == 3 and np.abs(np.array(heard) - expected).max() <= 0.002 * RATE, heard
    assert [round(dominant_midi(audio[at + 400: at + 8400], RATE)) for at in expected] == [60, 64, 67]


def test_a_rhythmic_phrase_of_rests_is_silent():
    rests = Part("a0", (REST, REST), Sound("saw"), lengths=(1.0, 3.0))
    audio = _play(_sequencer(), [(_phrase(0, [rests]), 0, False)], tail_blocks=0)
    assert np.abs(audio).max() < 0.02


def test_more_lengths_than_lanes_still_start_each_note_on_time():
    text = "C4:0.25 D4:0.5 E4:0.75 F4:1 G4:1.25 A4:1.5 B4:1.75"  # 7 lengths, at most 4 lanes
    part = _part("a0", text, "square")
    sequencer = _sequencer()
    audio = _play(sequencer, [(_phrase(0, [part]), 0, False)])
    written = _written(part)
    heard = onsets(audio, RATE)
    assert len(heard) == len(written)
    assert np.abs(np.array(heard) - [round(onset * RATE) for onset, _, _ in written]).max() <= 0.002 * RATE
    next_onsets = [onset for onset, _, _ in written[1:]] + [10.0]
    for (onset, length, note), next_onset in zip(written, next_onsets, strict=True):
        at, until = round(onset * RATE), round(min(next_onset, onset + 2 * length) * RATE) - 100
        assert round(dominant_midi(audio[at + 300: at + 300 + round(length * RATE / 2)], RATE)) == note
        # A note without a lane of its own plays in the nearest shorter one: it may end early, never late.
        assert sounding_until(audio, RATE, at, until) - at < 0.95 * length * RATE


# -- live: muted agents keep their lanes, revisions mid-phrase at the real onsets -----------------


def _band(segment, hz):
    spectrum = np.abs(np.fft.rfft(segment * np.hanning(len(segment))))
    bin_ = round(hz * len(segment) / RATE)
    return spectrum[bin_ - 2: bin_ + 3].max()


def test_a_mute_and_an_unmute_mid_phrase_are_heard_at_the_agents_real_onsets():
    a0 = _part("a0", "C4:2.5 C4:2.5", "square")

    def live(a1):  # a1 muted when composed; unmuted in its first note, muted again in its second
        sequencer = _sequencer()
        sequencer.schedule(_phrase(0, [a0], silent=[a1]), 0, with_silent=True)
        chunks = []
        for until, muted in ((0.1, frozenset()), (1.6, frozenset({"a1"})), (2.5, None)):
            chunks.append(sequencer.render(round(until * RATE) // BLOCK - sequencer.blocks_done))
            if muted is not None:
                sequencer.revise_from(muted, {}, sequencer.blocks_done * BLOCK)
        return np.concatenate(chunks)[:, 0, :].ravel()

    a1 = _part("a1", "E5:0.5 _:2.5 E5:0.5 _:0.5 E5:1", "square")
    alone = live(a1) - live(Part("a1", (REST,) * 5, a1.sound, lengths=a1.lengths))  # a1 as mixed
    # Unmuted in a note: heard from its next one, on its onset; muted in a note: silent at once.
    heard = np.flatnonzero(np.abs(alone) > 1e-4)  # (below: the inaudible start of its chains)
    assert heard[0] == round(1.5 * RATE) + 1 and len(onsets(alone, RATE)) == 1
    assert heard[-1] < round(1.6 * RATE) // BLOCK * BLOCK  # the block the mute came in


def test_a_new_voice_mid_phrase_lands_lane_by_lane_at_each_lanes_next_note():
    part = _part("a0", "C4:1 E4:0.5 G4:0.5 C4:1 E4:0.5 G4:0.5", "square")  # lanes of 1 and 0.5 beats
    sequencer = _sequencer()
    sequencer.schedule(_phrase(0, [part]), 0, with_silent=True)
    first = sequencer.render(round(0.3 * RATE) // BLOCK)[:, 0, :].ravel()  # into C4
    sequencer.revise_from(frozenset(), {"a0": Sound("tri")}, len(first))
    rest = sequencer.render(round(1.7 * RATE) // BLOCK)[:, 0, :].ravel()  # to the phrase's end
    audio = np.concatenate([first, rest])
    written = _written(part)
    heard = onsets(audio, RATE)
    # No blip of a swap of its own: every onset is a note's (a swap lands in the block of its lane's
    # next note, so that note may start a little early, at most a block: 2.9 ms).
    assert len(heard) == len(written), heard
    assert np.abs(np.array(heard) - [round(onset * RATE) for onset, _, _ in written]).max() <= BLOCK

    def odd_harmonics(at, hz):  # a square's third harmonic is strong, a triangle's faint
        segment = audio[at + 300: at + 2000]
        return _band(segment, 3 * hz) / _band(segment, hz)

    square_c4, tri_c4 = odd_harmonics(0, 261.6), odd_harmonics(round(1.0 * RATE), 261.6)
    tri_e4 = odd_harmonics(round(0.5 * RATE), 329.6)
    assert tri_c4 < 0.5 * square_c4 and tri_e4 < 0.5 * square_c4  # both lanes took the new voice

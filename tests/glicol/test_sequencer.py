"""The sequencer lands each phrase so that its notes start on the phrase grid."""

from itertools import pairwise

import numpy as np
import pytest

from ensemble.events import Part, Phrase, Sound
from ensemble.glicol.engine import BLOCK, GlicolEngine
from ensemble.glicol.program import load_voices
from ensemble.glicol.sequencer import GlicolSequencer
from ensemble.melody import REST

pytestmark = pytest.mark.usefixtures("glicol")
STEP = 0.25  # beats; at 150 bpm a step is 4410 samples


def _phrase(index, parts, tempo=150.0, steps=4):
    return Phrase(index, index * steps * STEP, STEP, tempo, tuple(parts), steps)


def _onsets(audio, quiet=200):
    """First sample of every sound that follows at least `quiet` samples of silence."""
    loud = np.flatnonzero(np.abs(audio) > 1e-4)
    return [int(loud[0])] + [int(b) for a, b in pairwise(loud) if b - a > quiet]


def _play(phrases, starts, tail_blocks=200):
    sequencer = GlicolSequencer(GlicolEngine(on_message=pytest.fail), load_voices())
    chunks = []
    for phrase, start in zip(phrases, starts, strict=True):
        sequencer.schedule(phrase, start)
        chunks.append(sequencer.render(sequencer.hungry_at() - sequencer.blocks_done))
    sequencer.silence_from(starts[-1] + 4 * 4410)
    chunks.append(sequencer.render(sequencer.hungry_at() - sequencer.blocks_done + tail_blocks))
    assert sequencer.queued == 0
    return np.concatenate(chunks)[:, 0, :].ravel(), sequencer


def test_notes_start_on_the_step_grid_phrase_after_phrase():
    melody = (60, REST, 64, 67)
    phrases = [_phrase(i, [Part("a0", melody, Sound("square"))]) for i in range(3)]
    audio, sequencer = _play(phrases, [i * 4 * 4410 for i in range(3)])
    expected = [start + 1 + k * 4410 for start in sequencer.phrase_starts[:3] for k in (0, 2, 3)]
    assert sequencer.phrase_starts[:3] == [0, 17640, 35280]
    assert _onsets(audio)[:9] == expected


def test_an_agent_that_arrives_mid_performance_joins_the_grid_within_one_block():
    one = [Part("a0", (60, 62, 64, REST), Sound("square"))]
    two = [*one, Part("a1", (72, 74, 76, REST), Sound("tri"))]
    starts = [i * 4 * 4410 for i in range(3)]
    audio, sequencer = _play([_phrase(0, one), _phrase(1, two), _phrase(2, two)], starts)
    arrival, last = sequencer.phrase_starts[1], sequencer.phrase_starts[2]
    assert 0 <= starts[1] - arrival < BLOCK  # a new generation lands in the block of its boundary
    assert last - arrival == 4 * 4410  # and keeps an exact grid after that
    onsets = _onsets(audio)
    assert [o for o in onsets if arrival <= o < last] == [arrival + 1 + k * 4410 for k in range(3)]


def test_a_phrase_of_rests_is_silent_even_for_a_new_chain():
    silent = [Part("a0", (REST,) * 4, Sound("saw"))]
    audio, _ = _play([_phrase(0, silent)], [0], tail_blocks=0)
    assert np.abs(audio).max() < 0.02  # the engine's creation blip is moved below hearing


def test_a_tempo_change_starts_a_new_grid_at_the_phrase_boundary():
    melody = [Part("a0", (60, 62, 64, REST), Sound("square"))]
    first, second = _phrase(0, melody), Phrase(1, 1.0, STEP, 100.0, tuple(melody), 4)
    audio, sequencer = _play([first, second], [0, 17640])
    step_at_100 = round(STEP * 60 / 100 * 44100)
    start = sequencer.phrase_starts[1]
    assert 0 <= 17640 - start < BLOCK
    assert [o for o in _onsets(audio) if o >= start][:3] == [start + 1 + k * step_at_100 for k in range(3)]


def test_after_an_engine_trap_the_next_phrase_is_back_on_the_grid():
    messages = []
    sequencer = GlicolSequencer(GlicolEngine(on_message=messages.append), load_voices())
    melody = [Part("a0", (60, 62, 64, REST), Sound("square"))]
    chunks = []
    for index in range(3):
        sequencer.schedule(_phrase(index, melody), index * 4 * 4410)
        if index == 0:  # mid-phrase, a program that traps the engine: the instance is replaced
            chunks.append(sequencer.render(50))
            sequencer.engine.update("a0_1: sin 440 >> pan 0.5")
        chunks.append(sequencer.render(sequencer.hungry_at() - sequencer.blocks_done))
    chunks.append(sequencer.render(100))
    audio = np.concatenate(chunks)[:, 0, :].ravel()
    assert any("trapped" in m for m in messages)
    start = sequencer.phrase_starts[2]
    assert 0 <= 2 * 4 * 4410 - start < BLOCK  # realigned on the ideal boundary
    assert [o for o in _onsets(audio) if o >= start][:3] == [start + 1 + k * 4410 for k in range(3)]


def test_a_mute_mid_phrase_silences_that_agent_at_once_and_the_other_plays_on():
    from support.audio_analysis import dominant_midi

    # E5 for a1: no harmonic of a square C4 (odd harmonics only) comes near it
    parts = [Part("a0", (60,) * 4, Sound("square")), Part("a1", (76,) * 4, Sound("square"))]
    sequencer = GlicolSequencer(GlicolEngine(on_message=pytest.fail), load_voices())
    sequencer.schedule(_phrase(0, parts), 0)
    step, rate, window = 4410, 44100, 1700
    first = sequencer.render(2 * step // BLOCK)[:, 0, :].ravel()  # two steps: both agents
    sequencer.revise_from(frozenset({"a1"}), {}, 2 * step)
    rest = sequencer.render(2 * step // BLOCK)[:, 0, :].ravel()  # the last two steps

    def e5(segment):  # a1's pitch, 659 Hz
        spectrum = np.abs(np.fft.rfft(segment * np.hanning(len(segment))))
        bin_ = round(659.3 * len(segment) / rate)
        return spectrum[bin_ - 2: bin_ + 3].max()

    before, after = first[step + 100: step + 100 + window], rest[100: 100 + window]
    assert e5(before) > 30 * e5(after)  # a1 is gone from the first block after the mute
    assert round(dominant_midi(after, rate)) == 60  # a0 plays on
    assert round(dominant_midi(rest[step + 100: step + 100 + window], rate)) == 60  # on its grid


def test_an_unmute_mid_phrase_brings_that_agent_back_at_once_on_the_grid():
    from support.audio_analysis import dominant_midi

    heard, muted = Part("a0", (60,) * 4, Sound("square")), Part("a1", (76,) * 4, Sound("square"))
    phrase = Phrase(0, 0.0, STEP, 150.0, (heard,), 4, silent=(muted,))  # a1 muted when composed
    sequencer = GlicolSequencer(GlicolEngine(on_message=pytest.fail), load_voices())
    sequencer.schedule(phrase, 0, with_silent=True)  # live: a1 has a chain, playing rests
    step, rate, window = 4410, 44100, 1700
    first = sequencer.render(2 * step // BLOCK)[:, 0, :].ravel()
    sequencer.revise_from(frozenset(), {}, 2 * step)  # unmute all
    rest = sequencer.render(2 * step // BLOCK)[:, 0, :].ravel()
    before, after = first[step + 100: step + 100 + window], rest[100: 100 + window]
    assert round(dominant_midi(before, rate)) == 60  # only a0 before

    def e5(segment):
        spectrum = np.abs(np.fft.rfft(segment * np.hanning(len(segment))))
        bin_ = round(659.3 * len(segment) / rate)
        return spectrum[bin_ - 2: bin_ + 3].max()

    assert e5(after) > 30 * e5(before)  # a1's E5 from the first step after the unmute
    late = rest[step + 100: step + 100 + window]
    assert e5(late) > 30 * e5(before) and round(dominant_midi(late, rate)) in (60, 76)  # both, on the grid


def test_amp_set_mid_phrase_is_heard_at_once_and_every_note_stays_on_the_grid():
    parts = [Part("a0", (60, REST, 64, REST), Sound("square")), Part("a1", (76,) * 4, Sound("square"))]
    sequencer = GlicolSequencer(GlicolEngine(on_message=pytest.fail), load_voices())
    sequencer.schedule(_phrase(0, parts), 0, with_silent=True)
    step, rate, window = 4410, 44100, 1700
    first = sequencer.render(2 * step // BLOCK)[:, 0, :].ravel()
    quieter = {"a0": Sound("square", amp=0.1), "a1": Sound("square")}
    sequencer.revise_from(frozenset(), quieter, 2 * step)
    rest = sequencer.render(2 * step // BLOCK)[:, 0, :].ravel()

    def band(segment, hz):
        spectrum = np.abs(np.fft.rfft(segment * np.hanning(len(segment))))
        bin_ = round(hz * len(segment) / rate)
        return spectrum[bin_ - 2: bin_ + 3].max()

    c4, e4 = first[100: 100 + window], rest[100: 100 + window]  # a0's notes, before and after
    assert 0.05 < band(e4, 329.6) / band(c4, 261.6) < 0.25  # a tenth as loud (E4 a little louder)
    e5_before, e5_after = band(first[step + 100: step + 100 + window], 659.3), band(e4, 659.3)
    assert 0.8 < e5_after / e5_before < 1.25  # a1 untouched
    assert 2 * step + 1 in _onsets(np.concatenate([first, rest]))  # a0's E4 on its step


def test_a_new_voice_mid_phrase_lands_on_the_agents_next_note_and_keeps_the_grid():
    from support.audio_analysis import dominant_midi

    parts = [Part("a0", (60, REST, 64, REST), Sound("square"))]
    sequencer = GlicolSequencer(GlicolEngine(on_message=pytest.fail), load_voices())
    sequencer.schedule(_phrase(0, parts), 0, with_silent=True)
    step, rate, window = 4410, 44100, 1700
    first = sequencer.render(round(1.3 * step) // BLOCK)[:, 0, :].ravel()  # into the rest after C4
    sequencer.revise_from(frozenset(), {"a0": Sound("tri")}, len(first))
    rest = sequencer.render(4 * step // BLOCK - len(first) // BLOCK)[:, 0, :].ravel()
    audio = np.concatenate([first, rest])

    def odd_harmonics(segment, hz):  # a square's third harmonic is strong, a triangle's faint
        spectrum = np.abs(np.fft.rfft(segment * np.hanning(len(segment))))
        bins = [round(f * len(segment) / rate) for f in (hz, 3 * hz)]
        return spectrum[bins[1] - 2: bins[1] + 3].max() / spectrum[bins[0] - 2: bins[0] + 3].max()

    before, after = audio[100: 100 + window], audio[2 * step + 100: 2 * step + 100 + window]
    assert round(dominant_midi(after, rate)) == 64
    assert odd_harmonics(after, 329.6) < 0.5 * odd_harmonics(before, 261.6)  # E4 in the new voice
    first_onset, note_onset = _onsets(audio)  # no blip of its own: it joins the note's onset
    assert first_onset == 1 and 0 <= 2 * step + 1 - note_onset < BLOCK  # at most a block early


def test_a_mute_also_reaches_the_phrase_already_handed_over_and_waiting_to_land():
    parts = [Part("a0", (60,) * 4, Sound("square")), Part("a1", (76,) * 4, Sound("square"))]
    sequencer = GlicolSequencer(GlicolEngine(on_message=pytest.fail), load_voices())
    step, rate, window = 4410, 44100, 1700
    sequencer.schedule(_phrase(0, parts), 0, with_silent=True)
    sequencer.schedule(_phrase(1, parts), 4 * step, with_silent=True)  # composed before the mute
    first = sequencer.render(3 * step // BLOCK)[:, 0, :].ravel()
    sequencer.revise_from(frozenset({"a1"}), {}, 3 * step)
    rest = sequencer.render(5 * step // BLOCK)[:, 0, :].ravel()

    def e5(segment):
        spectrum = np.abs(np.fft.rfft(segment * np.hanning(len(segment))))
        bin_ = round(659.3 * len(segment) / rate)
        return spectrum[bin_ - 2: bin_ + 3].max()

    before = first[step + 100: step + 100 + window]
    next_phrase = rest[step + 2 * step + 100 - 0: step + 2 * step + 100 + window]  # phrase 1, step 3
    assert e5(before) > 30 * e5(next_phrase)  # a1 stays muted in the phrase that was waiting


class _Recording(GlicolEngine):
    """The real engine, keeping every program it is handed."""

    def __init__(self):
        self.programs = []
        super().__init__(on_message=pytest.fail)

    def update(self, code):
        self.programs.append(code)
        super().update(code)


def test_phrases_of_steps_make_the_same_programs_as_before_rhythm():
    """Written before lengths existed: a phrase of steps (two heard, one muted; a mute mid-phrase;
    then silence) must keep its programs to the byte, and so its renders."""
    engine = _Recording()
    sequencer = GlicolSequencer(engine, load_voices())
    parts = (Part("a0", (60, REST, 64, 67), Sound("square")),
             Part("a1", (REST, 72, 74, REST), Sound("saw", amp=0.5, cutoff=1200.0)))
    muted = (Part("a2", (62,) * 4, Sound("tri")),)
    for index in range(2):
        phrase = Phrase(index, index * 1.0, STEP, 150.0, parts, 4, silent=muted)
        sequencer.schedule(phrase, index * 17640, with_silent=True)
        sequencer.render(sequencer.hungry_at() - sequencer.blocks_done)
    sequencer.revise_from(frozenset({"a0"}), {}, sequencer.blocks_done * BLOCK + 1000)
    sequencer.render(20)
    sequencer.silence_from(2 * 17640)
    sequencer.render(sequencer.hungry_at() - sequencer.blocks_done + 10)
    a2_rests = "a2_1: seq _ _ _ _ >> trisynth 0.005 0.09 >> mul "
    assert engine.programs == [
        "a0_1: seq 60 _ 64 67 >> squsynth 0.005 0.09 >> mul 0.141581\n"
        "a1_1: seq 1 72 74 _ >> sawsynth 0.005 0.09 >> lpf 1200.0 1.0 >> mul 0.078745\n"
        "a2_1: seq 1 _ _ _ >> trisynth 0.005 0.09 >> mul 0.353553",
        "a0_1: seq 60 _ 64 67 >> squsynth 0.005 0.09 >> mul 0.141581\n"
        "a1_1: seq _ 72 74 _ >> sawsynth 0.005 0.09 >> lpf 1200.0 1.0 >> mul 0.078745\n"
        + a2_rests + "0.353553",
        "a0_1: seq _ _ _ _ >> squsynth 0.005 0.09 >> mul 0.212132\n"
        "a1_1: seq _ 72 74 _ >> sawsynth 0.005 0.09 >> lpf 1200.0 1.0 >> mul 0.078745\n"
        "a2_1: seq 62 62 62 62 >> trisynth 0.005 0.09 >> mul 0.314980",
        "a0_1: seq _ _ _ _ >> squsynth 0.005 0.09 >> mul 0.173205\n"
        "a1_1: seq _ _ _ _ >> sawsynth 0.005 0.09 >> lpf 1200.0 1.0 >> mul 0.144338\n"
        + a2_rests + "0.288675",
    ]


def test_a_rhythmic_phrase_gives_each_agent_a_chain_per_length_with_its_decay():
    """C4:1 E4:0.5 G4:0.5 _:1 A4:2 at 120 bpm: lanes of 0.5, 1 and 2 beats (decays 0.9 of 0.25,
    0.5 and 1 s), each note at its onset on its lane's coarsest grid, one level for the agent."""
    engine = _Recording()
    sequencer = GlicolSequencer(engine, load_voices())
    part = Part("a0", (60, 64, 67, REST, 69), Sound("square"), lengths=(1.0, 0.5, 0.5, 1.0, 2.0))
    sequencer.schedule(Phrase(0, 0.0, STEP, 120.0, (part,), 5, length_beats=5.0), 0)
    sequencer.render(1)
    assert engine.programs == [
        "a0_1_l8: seq -100 _ 64 67 _ _ _ _ _ _ >> squsynth 0.005 0.225 >> mul 0.178381\n"
        "a0_1_l16: seq 60 >> squsynth 0.005 0.45 >> mul 0.178381\n"
        "a0_1_l32: seq -100 _ _ 69 _ >> squsynth 0.005 0.9 >> mul 0.178381"]


def test_the_rest_of_a_phrase_at_a_new_tempo_lands_on_its_beat_with_a_new_grid():
    """A followed tempo changed mid-phrase (150 -> 100 bpm): the rest of the phrase from beat 1
    is scheduled as it comes, and from there the notes fall on the new tempo's steps."""
    sequencer = GlicolSequencer(GlicolEngine(on_message=pytest.fail), load_voices())
    part = Part("a0", (60, REST, 62, REST, 64, REST, 67, REST), Sound("square"))
    phrase = Phrase(0, 0.0, STEP, 150.0, (part,), 8)
    sequencer.schedule(phrase, 0)
    chunks = [sequencer.render(100)]  # past the first notes, not yet at beat 1 (17640)
    rest = phrase.rest_from(1.0, 100.0)
    assert rest is not None
    sequencer.schedule(rest, 4 * 4410)
    chunks.append(sequencer.render(300))
    audio = np.concatenate(chunks)[:, 0, :].ravel()
    start = sequencer.phrase_starts[1]
    step_at_100 = round(STEP * 60 / 100 * 44100)
    assert 0 <= 4 * 4410 - start < BLOCK
    onsets = _onsets(audio)
    assert [o for o in onsets if o < start] == [1, 1 + 2 * 4410]
    assert [o for o in onsets if o >= start][:2] == [start + 1, start + 1 + 2 * step_at_100]

"""The real Glicol engine: programs, errors and recovery."""

import numpy as np
import pytest
from support.audio_analysis import dominant_midi

from ensemble.glicol.engine import BLOCK, SAMPLE_RATE, GlicolEngine

pytestmark = pytest.mark.usefixtures("glicol")


def _render(engine, blocks):
    out = np.zeros((blocks, 2, BLOCK), dtype=np.float32)
    engine.render_into(out)
    return out[:, 0, :].ravel()


def _engine():
    messages = []
    return GlicolEngine(on_message=messages.append), messages


def test_a_program_plays_its_pitch():
    engine, messages = _engine()
    engine.update("a: seq 69 >> squsynth 0.005 0.5 >> mul 0.3")
    audio = _render(engine, 200)
    assert messages == []
    assert round(dominant_midi(audio[1000:15000], SAMPLE_RATE)) == 69


def test_a_parse_error_is_reported_and_the_old_program_keeps_playing():
    engine, messages = _engine()
    engine.update("a: seq 60 >> squsynth 0.005 2.0")
    _render(engine, 10)
    engine.update("a: seq 60 >> squsynth 0.005 >>")
    audio = _render(engine, 50)
    assert len(messages) == 1 and messages[0].startswith("glicol: parse error: ")
    assert np.abs(audio).max() > 0.1
    assert engine.last_good == "a: seq 60 >> squsynth 0.005 2.0"


def test_a_reference_error_restarts_with_the_last_good_program():
    engine, messages = _engine()
    engine.update("a: seq 64 >> squsynth 0.005 2.0")
    _render(engine, 10)
    engine.update("a: seq 64 >> squsynth 0.005 2.0 >> mul ~nowhere")
    audio = _render(engine, 100)
    assert "unknown reference" in messages[0]
    assert engine.restarts == 1
    assert round(dominant_midi(audio[2000:], SAMPLE_RATE)) == 64


def test_a_trap_restarts_the_engine_and_the_music_continues():
    engine, messages = _engine()
    engine.update("a: seq 67 >> squsynth 0.005 2.0")
    _render(engine, 10)
    engine.update("a: sin 440 >> pan 0.5")  # `pan` traps this build of the engine
    audio = _render(engine, 100)
    assert any("trapped" in m for m in messages)
    assert engine.restarts == 1
    assert round(dominant_midi(audio[2000:], SAMPLE_RATE)) == 67


def test_a_bar_spans_exactly_the_samples_asked_for():
    from ensemble.glicol.sequencer import bpm_for_bar

    engine, _ = _engine()
    engine.set_bpm(bpm_for_bar(4 * 9973))  # 4 steps of a prime number of samples
    engine.update("a: seq 60 60 60 60 >> squsynth 0.001 0.05")
    audio = _render(engine, 700)
    onsets = np.flatnonzero((np.abs(audio[1:]) > 1e-4) & (np.abs(audio[:-1]) <= 1e-4)) + 1
    assert onsets[:9].tolist() == [1 + k * 9973 for k in range(9)]

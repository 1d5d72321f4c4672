"""Single notes rendered alone, for the ear and the environments."""

import numpy as np
import pytest
from support.audio_analysis import dominant_midi

from ensemble.glicol.engine import SAMPLE_RATE
from ensemble.glicol.notes import NoteRenderer
from ensemble.glicol.program import load_voices

pytestmark = pytest.mark.usefixtures("glicol")


@pytest.fixture(scope="module")
def renderer():
    return NoteRenderer(load_voices())


@pytest.mark.parametrize("voice", ["saw", "square", "tri"])
@pytest.mark.parametrize("note", [48, 61, 79])
def test_a_note_sounds_at_its_pitch_for_exactly_its_length(renderer, voice, note):
    audio = renderer.render(voice, note, 0.25)
    assert len(audio) == round(0.25 * SAMPLE_RATE)
    assert round(dominant_midi(audio[500:8000], SAMPLE_RATE)) == note


def test_each_note_starts_at_its_first_samples_whatever_came_before(renderer):
    renderer.render("saw", 60, 0.13)
    audio = renderer.render("saw", 72, 0.25)
    onset = int(np.argmax(np.abs(audio) > 0.01))
    assert onset < 128  # within the first block
    assert round(dominant_midi(audio[200:4000], SAMPLE_RATE)) == 72  # nothing of the 60 is left


def test_attack_decay_and_cutoff_shape_the_sound(renderer):
    slow = renderer.render("saw", 48, 0.5, attack=0.2, decay=0.2)
    fast = renderer.render("saw", 48, 0.5, attack=0.001, decay=0.02)
    assert np.abs(fast[:400]).max() > 3 * np.abs(slow[:400]).max()  # a slow attack starts quiet
    assert np.abs(fast[-4000:]).max() < 0.001 < np.abs(slow[8000:12000]).max()  # a short decay dies
    dark = renderer.render("saw", 48, 0.5, cutoff=200.0)
    bright = renderer.render("saw", 48, 0.5, cutoff=8000.0)
    high = np.fft.rfftfreq(len(dark), 1 / SAMPLE_RATE) > 2000
    assert np.abs(np.fft.rfft(bright))[high].sum() > 10 * np.abs(np.fft.rfft(dark))[high].sum()


def test_renders_are_counted(renderer):
    before = renderer.renders
    renderer.render("tri", 60, 0.1)
    assert renderer.renders == before + 1

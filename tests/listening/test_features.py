"""Spectra on a semitone scale, and how they compare, on synthetic tones."""

import numpy as np
import pytest

from ensemble.dsp import SAMPLE_RATE
from ensemble.listening.features import (
    LOWEST_BAND,
    N_BANDS,
    SPECTRUM_SIZE,
    log_spectral_distance,
    similarity,
    spectrogram,
    spectrum,
)


def tone(midi, seconds=0.25, partials=(1.0,)):
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    frequency = 440.0 * 2 ** ((midi - 69) / 12)
    return sum(a * np.sin(2 * np.pi * frequency * (k + 1) * t) for k, a in enumerate(partials)) * 0.3


@pytest.mark.parametrize("midi", [40, 60, 61, 93])
def test_a_sine_lands_in_its_own_semitone_band(midi):
    features = spectrum(tone(midi))
    assert features.shape == (SPECTRUM_SIZE,)
    assert np.isclose(np.linalg.norm(features), 1.0)
    assert int(np.argmax(features)) == midi - LOWEST_BAND


def test_silence_matches_silence_only():
    silent, quiet = spectrum(np.zeros(1000)), spectrum(np.full(1000, 1e-6))
    assert similarity(silent, quiet) == pytest.approx(1.0)
    assert similarity(silent, spectrum(tone(60))) == pytest.approx(0.0)


def test_the_same_pitch_in_another_timbre_is_closer_than_a_neighbour_or_the_octave_below():
    bright = spectrum(tone(60, partials=(1, 1 / 2, 1 / 3, 1 / 4, 1 / 5)))  # saw-like
    hollow = spectrum(tone(60, partials=(1, 0, 1 / 3, 0, 1 / 5)))  # square-like
    assert similarity(bright, hollow) > 0.8
    for other in (59, 61, 48, 67):
        assert similarity(spectrum(tone(other, partials=(1, 1 / 2, 1 / 3, 1 / 4, 1 / 5))), hollow) < 0.5


def test_similarity_works_along_the_last_axis():
    grid = np.stack([spectrum(tone(n)) for n in (60, 62, 64)])
    assert np.allclose(similarity(grid, grid), 1.0)
    assert similarity(grid[:, None, :], grid[None, :, :]).shape == (3, 3)


def test_a_spectrogram_follows_a_sound_in_time():
    sound = np.concatenate([tone(60, 0.1), np.zeros(4410)])
    levels = spectrogram(sound, frame=1024)
    assert levels.shape == (len(sound) // 1024, N_BANDS)
    assert levels[0].max() > -20 and levels[-1].max() == pytest.approx(-100, abs=1)
    assert log_spectral_distance(levels, levels) == 0.0
    quieter = spectrogram(sound * 0.1, frame=1024)
    loud = levels > -60  # bands well above the floor are 20 dB down; the floor stays put
    assert np.allclose((levels - quieter)[loud], 20.0, atol=0.1)
    assert 0.0 < log_spectral_distance(levels, quieter) < 20.0

"""What a listener hears in a sound: its spectrum on a semitone scale, and how two compare.

The spectrum is summed into one band per semitone (MIDI 21 to 120), so a note and its
neighbour land in different bands whatever the register. Power, not magnitude or decibels:
the fundamental outweighs the partials, so a saw and a square on the same note sound alike
(similarity >= 0.92 for every pair of voices, MIDI 48-96, 0.25 s steps) while an octave, the
closest miss, stays below 0.31. Magnitudes let a wrong note reach 0.77; decibels flatten the
partials so far that a fifth or an octave can beat the right note.
A step's length bounds what can be told apart: 0.1 s cannot separate semitones below ~C4.
"""

from __future__ import annotations

import functools

import numpy as np

from ensemble.dsp import SAMPLE_RATE

LOWEST_BAND, HIGHEST_BAND = 21, 120  # MIDI notes at the centre of the first and last bands
N_BANDS = HIGHEST_BAND - LOWEST_BAND + 1
SPECTRUM_SIZE = N_BANDS + 1  # the bands, then one dimension that only silence has
SILENCE_RMS = 1e-4  # below this (-80 dBFS) a window counts as silence
_FLOOR_DB = -100.0


def spectrum(samples: np.ndarray) -> np.ndarray:
    """A unit vector: band powers of `samples`, or the silence dimension alone.

    Silence gets its own dimension so that cosine similarity needs no special case: two
    silences match (1), silence against a sound does not (0).
    """
    features = np.zeros(SPECTRUM_SIZE)
    if len(samples) == 0 or np.sqrt(np.mean(np.square(samples, dtype=np.float64))) < SILENCE_RMS:
        features[-1] = 1.0
        return features
    features[:N_BANDS] = _band_power(samples[None, :])[0]
    return features / np.linalg.norm(features)


def similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of spectra along the last axis, in [0, 1]."""
    return np.einsum("...f,...f->...", a, b)


def spectrogram(samples: np.ndarray, frame: int = 1024) -> np.ndarray:
    """Band levels in dB per frame (frames, bands), floored at -100 dB: a sound's shape in time."""
    count = max(1, len(samples) // frame)
    frames = np.zeros((count, frame))
    usable = samples[: count * frame]
    frames.reshape(-1)[: len(usable)] = usable
    return 10.0 * np.log10(_band_power(frames) + 10.0 ** (_FLOOR_DB / 10.0))


def log_spectral_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Root-mean-square difference of two spectrograms in dB (0 for the same sound)."""
    return float(np.sqrt(np.mean(np.square(a - b))))


def _band_power(frames: np.ndarray) -> np.ndarray:
    """Power per semitone band of each row of `frames` (Hann window, zero-padded FFT)."""
    length = frames.shape[1]
    size = 1 << int(np.ceil(np.log2(length * 2)))
    window = np.hanning(length)
    power = np.abs(np.fft.rfft(frames * window, size)) ** 2
    bands, valid = _band_of_bin(size)
    result = np.zeros((frames.shape[0], N_BANDS))
    for row, values in enumerate(power):
        result[row] = np.bincount(bands, weights=values[valid], minlength=N_BANDS)
    return result / window.sum() ** 2  # a full-scale sine stays below 0 dB


@functools.lru_cache(maxsize=32)
def _band_of_bin(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Which band each FFT bin falls in (bins outside every band are left out)."""
    frequencies = np.maximum(np.fft.rfftfreq(size, 1.0 / SAMPLE_RATE), 1.0)  # DC: far below every band
    midi = 69.0 + 12.0 * np.log2(frequencies / 440.0)
    band = np.round(midi).astype(np.int64) - LOWEST_BAND
    valid = (band >= 0) & (band < N_BANDS)
    return band[valid], valid

"""Reading pitches back out of rendered audio, for tests that listen to what was played."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Mono float samples in [-1, 1] and the sample rate."""
    with wave.open(str(path), "rb") as file:
        rate, channels = file.getframerate(), file.getnchannels()
        data = np.frombuffer(file.readframes(file.getnframes()), dtype="<i2")
    return data.reshape(-1, channels).mean(axis=1) / 32768.0, rate


def loudness(segment: np.ndarray) -> float:
    return float(np.sqrt(np.mean(segment**2))) if len(segment) else 0.0


def dominant_midi(segment: np.ndarray, rate: int) -> float:
    """The fundamental of the loudest tone, as a (fractional) MIDI number.

    Takes the strongest spectral peak, then prefers a subharmonic that is itself strong,
    so that a tone whose second harmonic is loudest is not read an octave up.
    """
    size = 1 << int(np.ceil(np.log2(len(segment) * 4)))
    spectrum = np.abs(np.fft.rfft(segment * np.hanning(len(segment)), size))
    spectrum[: int(40 * size / rate)] = 0.0  # below 40 Hz: DC and rumble
    peak = int(np.argmax(spectrum))
    for divisor in (4, 3, 2):
        candidate = round(peak / divisor)
        window = spectrum[max(candidate - 2, 0): candidate + 3]
        if len(window) and window.max() > 0.25 * spectrum[peak]:
            peak = max(candidate - 2, 0) + int(np.argmax(window))
            break
    frequency = peak * rate / size
    return 69.0 + 12.0 * np.log2(frequency / 440.0)

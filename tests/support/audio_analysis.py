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


def onsets(samples: np.ndarray, rate: int, rise_db: float = 9.0, floor_db: float = -30.0,
           window: float = 0.006, apart: float = 0.03) -> list[int]:
    """Where notes start: the samples at which the sound's energy jumps.

    Energy is measured in windows of `window` seconds (longer than a low note's period, so that a
    waveform's own ripple is not taken for a note) every 32 samples. A window is an onset when it
    is at most `-floor_db` dB below the loudest and `rise_db` above the quietest of the 10 ms before
    it (silence before the first), `apart` seconds or more after the onset before. Its sample is
    then the first in the window that stands out of what sounded before (see _attack).
    """
    hop, size, back = 32, max(32, round(window * rate)), round(0.01 * rate)
    frames = max(0, (len(samples) - size) // hop + 1)
    if frames == 0:
        return []
    squares = np.concatenate([[0.0], np.cumsum(samples.astype(np.float64) ** 2)])
    starts = np.arange(frames) * hop
    level = 10.0 * np.log10((squares[starts + size] - squares[starts]) / size + 1e-20)
    loud = level.max() + floor_db
    found: list[int] = []
    for frame in range(frames):
        before = level[max(0, frame - back // hop): frame]
        quietest = before.min() if len(before) else -200.0
        if level[frame] < loud or level[frame] - quietest < rise_db:
            continue
        at = _attack(samples, int(starts[frame]), size, back, rate)
        if not found or at - found[-1] >= apart * rate:
            found.append(at)
    return found


def _attack(samples: np.ndarray, start: int, size: int, back: int, rate: int) -> int:
    """The first sample of the window at `start` twice as loud as any of the 10 ms before, and
    a fiftieth of the way up to the loudest of the 20 ms after: a percussive attack is found
    within a fraction of a millisecond, whatever the phase of its waveform."""
    magnitude = np.abs(samples)
    before = magnitude[max(0, start - back): start].max(initial=0.0)
    peak = magnitude[start: start + size + round(0.02 * rate)].max(initial=0.0)
    threshold = max(2.0 * before, before + 0.02 * (peak - before))
    above = np.flatnonzero(magnitude[start: start + size] > threshold)
    return start + int(above[0]) if len(above) else start


def sounding_until(samples: np.ndarray, rate: int, start: int, end: int, floor_db: float = -40.0,
                   low_cut: float = 60.0) -> int:
    """The last sample in [start, end) louder than `floor_db` below that stretch's loudest, heard
    above `low_cut` Hz (below it, rumble such as a synth's inaudible start counts as silence)."""
    stretch = samples[start:end].astype(np.float64)
    spectrum = np.fft.rfft(stretch)
    spectrum[: int(low_cut * len(stretch) / rate) + 1] = 0.0
    magnitude = np.abs(np.fft.irfft(spectrum, len(stretch)))
    above = np.flatnonzero(magnitude > magnitude.max(initial=0.0) * 10.0 ** (floor_db / 20.0))
    return start + int(above[-1]) if len(above) else start

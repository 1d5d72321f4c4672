"""A streaming resampler by an exact rational ratio: polyphase windowed sinc, block by block.

The Glicol engine renders at 44.1 kHz only; a device at 48 kHz plays it through this at exactly
160/147, so pitch and tempo are exact (no drift: no ratio is ever rounded). Output frame k is
input time k * down / up exactly, with no delay to make up for: the resampler waits for the
input that the filter needs after that time (half its taps) before it makes frame k. Samples
before the first are silence.

Each output frame is a weighted sum of `taps` input samples around its time, the weights one
row (phase) of a Kaiser-windowed sinc precomputed for each of the `up` fractional positions.
Blocks of any size give the very same samples as one long block: the state is only the input
history the filter still needs and the count of frames made.
"""

from __future__ import annotations

from math import gcd

import numpy as np
from numpy.lib.stride_tricks import as_strided

TAPS = 64  # input samples per output frame when not lowering the rate (more when lowering it)
BETA = 8.6  # Kaiser window: side lobes about 86 dB down
# The low-pass sits just below the lower Nyquist frequency, so that what the window's transition
# band lets through past it is already attenuated: flat to about 18 kHz at 44.1 kHz.
CUTOFF = 0.91


def ratio(from_rate: int, to_rate: int) -> tuple[int, int]:
    """(up, down): to_rate / from_rate in lowest terms, e.g. 44100 -> 48000 is (160, 147)."""
    if from_rate <= 0 or to_rate <= 0:
        raise ValueError(f"sample rates must be positive (got {from_rate} and {to_rate})")
    common = gcd(from_rate, to_rate)
    return to_rate // common, from_rate // common


def phase_table(up: int, down: int, taps: int, beta: float = BETA, cutoff: float = CUTOFF) -> np.ndarray:
    """Row p: the weights of the `taps` input samples around a time p/up past an input sample.

    The samples are at offsets -taps/2 + 1 .. taps/2 from that sample. Each row sums to 1, so a
    constant passes unchanged whatever the phase (no ripple at the phase rate).
    """
    half = taps // 2
    band = 0.5 * cutoff * min(1.0, up / down)  # cycles per input sample
    offsets = np.arange(-half + 1, half + 1)
    distance = np.arange(up)[:, None] / up - offsets[None, :]  # (up, taps), in input samples
    window = np.i0(beta * np.sqrt(np.clip(1.0 - (distance / half) ** 2, 0.0, None))) / np.i0(beta)
    rows = 2.0 * band * np.sinc(2.0 * band * distance) * window
    return rows / rows.sum(axis=1, keepdims=True)


class Resampler:
    """From `from_rate` to `to_rate`, float32: planar in (as the engine renders), interleaved
    out (as a sound card takes it).

    `feed` input as it comes, `take` exactly the frames wanted; `needed` says how much input
    `take` will want first.
    """

    def __init__(self, from_rate: int, to_rate: int, channels: int = 2, taps: int = TAPS) -> None:
        self.up, self.down = ratio(from_rate, to_rate)
        self.channels = channels
        # Lowering the rate narrows the pass band: the filter widens by as much to stay as sharp.
        widen = max(self.up, self.down) / self.up
        self.taps = 2 * max(1, int(np.ceil(taps * widen / 2)))
        self._half = self.taps // 2
        self._table = phase_table(self.up, self.down, self.taps).astype(np.float32)
        # Input history, planar, from absolute sample `_base` on; before sample 0 it is silence.
        self._base = -(self._half - 1)
        self._history = np.zeros((channels, self._half - 1), dtype=np.float32)
        self.fed = 0  # input samples fed
        self.made = 0  # output frames taken

    def needed(self, frames: int) -> int:
        """Input samples to feed before `take(frames)` can make them (0 if there are enough)."""
        if frames <= 0:
            return 0
        last = (self.made + frames - 1) * self.down // self.up  # input sample at or before the last frame
        return max(0, last + self._half + 1 - self.fed)

    def feed(self, samples: np.ndarray) -> None:
        """Append input, shape (channels, n)."""
        if samples.ndim != 2 or samples.shape[0] != self.channels:
            raise ValueError(f"expected ({self.channels}, n) samples, got {samples.shape}")
        self._history = np.concatenate([self._history, samples.astype(np.float32, copy=False)], axis=1)
        self.fed += samples.shape[1]

    def take(self, frames: int) -> np.ndarray:
        """The next `frames` output frames, shape (frames, channels)."""
        short = self.needed(frames)
        if short:
            raise ValueError(f"{short} more input samples are needed for {frames} frames")
        if frames <= 0:
            return np.zeros((0, self.channels), dtype=np.float32)
        positions = (self.made + np.arange(frames, dtype=np.int64)) * self.down
        sample, phase = positions // self.up, positions % self.up
        # Row r of the windows holds input samples r .. r + taps - 1 of the history: frame f's
        # window starts `half - 1` samples before its input sample.
        first = sample - self._base - self._half + 1
        history = self._history
        channel_stride, sample_stride = history.strides
        rows = history.shape[1] - self.taps + 1
        # (channels, rows, taps), a read-only view, no copy: numpy's sliding_window_view without its
        # checks, which cost as much as the filtering.
        windows = as_strided(history, (self.channels, rows, self.taps),
                             (channel_stride, sample_stride, sample_stride), writeable=False)
        out = np.einsum("ft,cft->fc", self._table[phase], windows[:, first])
        self.made += frames
        # Forget what no later frame reaches: the next one starts `half - 1` samples before its own.
        keep_from = (self.made * self.down // self.up) - self._half + 1
        drop = max(0, keep_from - self._base)
        if drop:
            self._history = self._history[:, drop:]
            self._base += drop
        return out.astype(np.float32, copy=False)

    def process(self, samples: np.ndarray) -> np.ndarray:
        """Feed `samples` (channels, n) and take every frame they complete (frames, channels): for
        streams with no fixed output size."""
        self.feed(samples)
        available = (self.fed - self._half) * self.up  # frames k with k * down / up < fed - half
        frames = max(0, -(-available // self.down)) - self.made if available > 0 else 0
        return self.take(max(0, frames))

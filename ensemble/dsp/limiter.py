"""A block-wise peak limiter: the mix never leaves ±ceiling, whatever the voices do."""

from __future__ import annotations

import numpy as np


class Limiter:
    """Instant attack per block, linear release; deterministic and stateful across calls."""

    def __init__(self, ceiling: float = 0.98, release_blocks: int = 86) -> None:
        self.ceiling = ceiling
        self.release_step = 1.0 / release_blocks  # full recovery in ~0.25 s of 128-frame blocks
        self.gain = 1.0

    def process(self, blocks: np.ndarray) -> np.ndarray:
        """Limit `blocks`, shape (n, channels, frames), in place; returns it."""
        n, _, frames = blocks.shape
        peaks = np.abs(blocks).reshape(n, -1).max(axis=1)
        allowed = np.minimum(1.0, self.ceiling / np.maximum(peaks, 1e-12))
        gains = np.empty(n)
        gain = self.gain
        for i in range(n):  # the release recursion is sequential; n is blocks, not samples
            gain = min(allowed[i], gain + self.release_step)
            gains[i] = gain
        previous = np.concatenate([[self.gain], gains[:-1]])
        start = np.where(gains < previous, gains, previous)  # attack: the block's own gain at once
        ramp = np.arange(1, frames + 1) / frames
        envelope = start[:, None] + (gains - start)[:, None] * ramp[None, :]
        blocks *= envelope[:, None, :].astype(blocks.dtype)
        self.gain = gain
        return blocks

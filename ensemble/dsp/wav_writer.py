"""16-bit stereo WAV, written as it is rendered. Same samples in, same bytes out."""

from __future__ import annotations

import wave
from pathlib import Path
from types import TracebackType

import numpy as np

from ensemble.errors import UserError


class WavWriter:
    def __init__(self, path: Path, sample_rate: int, channels: int = 2) -> None:
        self.path = path
        self.frames = 0
        try:
            self._raw = path.open("wb")  # opened first, so a bad path leaves no half-made writer
        except OSError as error:
            raise UserError(f"cannot write {path}: {error.strerror}") from None
        self._file = wave.open(self._raw, "wb")  # noqa: SIM115 - closed by close()
        self._file.setnchannels(channels)
        self._file.setsampwidth(2)
        self._file.setframerate(sample_rate)

    def write(self, blocks: np.ndarray) -> None:
        """Append `blocks`, shape (n, channels, frames) floats within ±1."""
        interleaved = blocks.transpose(0, 2, 1).reshape(-1, blocks.shape[1])
        pcm = np.clip(np.round(interleaved * 32767.0), -32768, 32767).astype("<i2")
        self._file.writeframes(pcm.tobytes())
        self.frames += interleaved.shape[0]

    def close(self) -> None:
        self._file.close()
        self._raw.close()

    def __enter__(self) -> WavWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

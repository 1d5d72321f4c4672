"""16-bit PCM WAV, written as it is rendered. Same samples in, same bytes out.

A WAV's sizes are 32-bit, so it holds at most 4 GiB (about 6 h 45 min of 44.1 kHz stereo). A
longer render is written as RF64 (EBU Tech 3306: the same chunks, with the sizes in a `ds64`
chunk of 64-bit fields), which libsndfile, SoX, FFmpeg and the common audio editors read. The
format is chosen up front from the number of frames the render will have, so that every render
a WAV can hold stays a plain WAV, byte for byte as before.
"""

from __future__ import annotations

import struct
from pathlib import Path
from types import TracebackType

import numpy as np

from ensemble.errors import UserError

SAMPLE_WIDTH = 2  # bytes: 16-bit
PLAIN_LIMIT = 0xFFFFFFFF  # the largest RIFF size a 32-bit field holds
PLAIN_HEADER = 44  # bytes before the samples: RIFF, fmt and data chunk headers
RF64_HEADER = 80  # the same, with a ds64 chunk (8 + 28 bytes)
_UNKNOWN = 0xFFFFFFFF  # a 32-bit size of RF64: "see ds64"


def data_bytes(frames: int, channels: int = 2) -> int:
    return frames * channels * SAMPLE_WIDTH


def needs_rf64(frames: int, channels: int = 2, limit: int = PLAIN_LIMIT) -> bool:
    """Whether `frames` of audio are more than a plain WAV can hold (`limit`: the largest RIFF
    size allowed, made small by tests)."""
    return PLAIN_HEADER - 8 + data_bytes(frames, channels) > limit


def file_bytes(frames: int, channels: int = 2, limit: int = PLAIN_LIMIT) -> int:
    """The size of the file that `frames` make."""
    header = RF64_HEADER if needs_rf64(frames, channels, limit) else PLAIN_HEADER
    return header + data_bytes(frames, channels)


class WavWriter:
    """`planned_frames`: how many frames the file will hold, known before the first is written;
    a plain WAV when they fit, RF64 when they do not. Writing more than a plain WAV holds is refused."""

    def __init__(self, path: Path, sample_rate: int, channels: int = 2, planned_frames: int = 0,
                 limit: int = PLAIN_LIMIT) -> None:
        self.path = path
        self.sample_rate = sample_rate
        self.channels = channels
        self.frames = 0
        self.rf64 = needs_rf64(planned_frames, channels, limit)
        self._limit = limit
        try:
            self._file = path.open("wb")
        except OSError as error:
            raise UserError(f"cannot write {path}: {error.strerror}") from None
        self._file.write(self._header())  # sizes of 0 until close(): a reader sees an empty file

    def write(self, blocks: np.ndarray) -> None:
        """Append `blocks`, shape (n, channels, frames) floats within ±1."""
        interleaved = blocks.transpose(0, 2, 1).reshape(-1, blocks.shape[1])
        frames = self.frames + interleaved.shape[0]
        if not self.rf64 and needs_rf64(frames, self.channels, self._limit):
            raise UserError("more audio than a WAV can hold, and more than was planned")
        pcm = np.clip(np.round(interleaved * 32767.0), -32768, 32767).astype("<i2")
        self._file.write(pcm.tobytes())
        self.frames = frames

    def close(self) -> None:
        """Write the sizes into the header, and close."""
        if self._file.closed:
            return
        try:
            self._file.seek(0)
            self._file.write(self._header())
        finally:
            self._file.close()

    def _header(self) -> bytes:
        data = data_bytes(self.frames, self.channels)
        fmt = struct.pack("<4sLHHLLHH", b"fmt ", 16, 1, self.channels, self.sample_rate,
                          self.sample_rate * self.channels * SAMPLE_WIDTH, self.channels * SAMPLE_WIDTH,
                          SAMPLE_WIDTH * 8)
        if not self.rf64:
            return struct.pack("<4sL4s", b"RIFF", PLAIN_HEADER - 8 + data, b"WAVE") + fmt + \
                struct.pack("<4sL", b"data", data)
        ds64 = struct.pack("<4sLQQQL", b"ds64", 28, RF64_HEADER - 8 + data, data, self.frames, 0)
        return struct.pack("<4sL4s", b"RF64", _UNKNOWN, b"WAVE") + ds64 + fmt + \
            struct.pack("<4sL", b"data", _UNKNOWN)

    def __enter__(self) -> WavWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

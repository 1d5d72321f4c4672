"""The WAV writer: plain WAV as the standard library writes it, RF64 beyond 4 GiB, checked by
parsing the chunks and by libsndfile, an independent reader."""

import ctypes
import ctypes.util
import os
import struct
import wave

import numpy as np
import pytest

from ensemble.dsp.wav_writer import PLAIN_LIMIT, WavWriter, file_bytes, needs_rf64
from ensemble.errors import UserError


def test_writes_interleaved_16_bit_stereo(tmp_path):
    blocks = np.zeros((1, 2, 128), dtype=np.float32)
    blocks[0, 0, 0], blocks[0, 1, 0], blocks[0, 0, 1] = 0.5, -0.5, 1.0
    with WavWriter(tmp_path / "x.wav", 44100) as writer:
        writer.write(blocks)
    with wave.open(str(tmp_path / "x.wav"), "rb") as file:
        shape = (file.getnchannels(), file.getsampwidth(), file.getframerate(), file.getnframes())
        assert shape == (2, 2, 44100, 128)
        samples = np.frombuffer(file.readframes(2), dtype="<i2").tolist()
    assert samples == [16384, -16384, 32767, 0]


def test_an_unwritable_path_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="cannot write"):
        WavWriter(tmp_path / "missing" / "x.wav", 44100)

SF_READ = 0x10
SF_FORMAT_TYPEMASK = 0x0FFF0000
SF_FORMAT_WAV, SF_FORMAT_RF64 = 0x010000, 0x220000


def _noise(frames, seed=1):
    blocks = np.random.default_rng(seed).uniform(-1.2, 1.2, size=(frames // 128, 2, 128))
    return blocks.astype(np.float32)


def _through_wave_module(path, blocks):
    """What the standard library's writer made of the same samples (ensemble used it before)."""
    interleaved = blocks.transpose(0, 2, 1).reshape(-1, 2)
    pcm = np.clip(np.round(interleaved * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as file:
        file.setnchannels(2)
        file.setsampwidth(2)
        file.setframerate(44100)
        file.writeframes(pcm.tobytes())
    return pcm


def _chunks(data):
    """(id, size, offset of its body) of every chunk after the 12-byte RIFF/RF64 header."""
    found, at = [], 12
    while at + 8 <= len(data):
        name, size = struct.unpack_from("<4sL", data, at)
        found.append((name, size, at + 8))
        if name == b"data":
            break
        at += 8 + size + (size & 1)
    return found


class _SndFileInfo(ctypes.Structure):
    _fields_ = [("frames", ctypes.c_int64), ("samplerate", ctypes.c_int), ("channels", ctypes.c_int),
                ("format", ctypes.c_int), ("sections", ctypes.c_int), ("seekable", ctypes.c_int)]


def _libsndfile():
    name = ctypes.util.find_library("sndfile")
    if name is None:
        reason = "libsndfile not installed: apt-get install libsndfile1 (it comes with jackd2 and fluidsynth)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    library = ctypes.CDLL(name)
    library.sf_open.restype = ctypes.c_void_p
    library.sf_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(_SndFileInfo)]
    library.sf_readf_short.restype = ctypes.c_int64
    library.sf_readf_short.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_short), ctypes.c_int64]
    library.sf_close.argtypes = [ctypes.c_void_p]
    return library


def _read_with_libsndfile(path):
    """(format type, rate, channels, samples) as libsndfile, an independent reader, sees the file."""
    library = _libsndfile()
    info = _SndFileInfo()
    handle = library.sf_open(str(path).encode(), SF_READ, ctypes.byref(info))
    assert handle, f"libsndfile cannot open {path}"
    try:
        samples = np.zeros(info.frames * info.channels, dtype=np.int16)
        read = library.sf_readf_short(handle, samples.ctypes.data_as(ctypes.POINTER(ctypes.c_short)),
                                      info.frames)
    finally:
        library.sf_close(handle)
    assert read == info.frames
    return info.format & SF_FORMAT_TYPEMASK, info.samplerate, info.channels, samples


def test_a_wav_that_fits_is_the_same_bytes_as_the_standard_library_writes(tmp_path):
    blocks = _noise(128 * 40)
    _through_wave_module(tmp_path / "wave.wav", blocks)
    with WavWriter(tmp_path / "ours.wav", 44100, planned_frames=128 * 40) as writer:
        writer.write(blocks[:15])
        writer.write(blocks[15:])
    assert (tmp_path / "ours.wav").read_bytes() == (tmp_path / "wave.wav").read_bytes()
    assert (tmp_path / "ours.wav").stat().st_size == file_bytes(128 * 40)


def test_more_than_a_wav_holds_is_written_as_rf64(tmp_path):
    frames = 128 * 40
    blocks = _noise(frames)
    pcm = _through_wave_module(tmp_path / "wave.wav", blocks)
    limit = 36 + 4 * frames - 1  # a plain WAV of these frames would be one byte too big
    with WavWriter(tmp_path / "big.wav", 44100, planned_frames=frames, limit=limit) as writer:
        assert writer.rf64
        writer.write(blocks)
    data = (tmp_path / "big.wav").read_bytes()
    assert len(data) == file_bytes(frames, limit=limit) == 80 + 4 * frames
    assert struct.unpack_from("<4sL4s", data) == (b"RF64", 0xFFFFFFFF, b"WAVE")
    chunks = _chunks(data)
    assert [(name, size) for name, size, _ in chunks] == [(b"ds64", 28), (b"fmt ", 16), (b"data", 0xFFFFFFFF)]
    riff_size, data_size, sample_count, table = struct.unpack_from("<QQQL", data, chunks[0][2])
    assert (riff_size, data_size, sample_count, table) == (len(data) - 8, 4 * frames, frames, 0)
    assert struct.unpack_from("<HHLLHH", data, chunks[1][2]) == (1, 2, 44100, 44100 * 4, 4, 16)
    assert data[chunks[2][2]:] == pcm.tobytes()

    kind, rate, channels, samples = _read_with_libsndfile(tmp_path / "big.wav")
    assert (kind, rate, channels) == (SF_FORMAT_RF64, 44100, 2)
    assert np.array_equal(samples, pcm.ravel())


def test_libsndfile_reads_our_plain_wav_as_wav(tmp_path):
    blocks = _noise(128 * 4)
    with WavWriter(tmp_path / "x.wav", 44100, planned_frames=128 * 4) as writer:
        writer.write(blocks)
    kind, _, _, samples = _read_with_libsndfile(tmp_path / "x.wav")
    assert kind == SF_FORMAT_WAV and samples.size == 128 * 4 * 2


def test_the_format_is_chosen_at_the_exact_edge_of_a_wav():
    largest = (PLAIN_LIMIT - 36) // 4  # frames of 16-bit stereo a plain WAV holds
    assert not needs_rf64(largest) and needs_rf64(largest + 1)
    assert largest / 44100 / 3600 > 6.7  # about 6 h 45 min at 44.1 kHz
    assert file_bytes(largest) == 44 + 4 * largest and file_bytes(largest + 1) == 80 + 4 * (largest + 1)


def test_writing_past_what_a_planned_wav_holds_is_refused_not_corrupted(tmp_path):
    with WavWriter(tmp_path / "x.wav", 44100, planned_frames=128, limit=36 + 4 * 256) as writer:
        writer.write(_noise(256))  # the limit, exactly
        with pytest.raises(UserError, match="more audio than a WAV can hold"):
            writer.write(_noise(128))
        assert writer.frames == 256

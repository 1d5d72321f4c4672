import wave

import numpy as np
import pytest

from ensemble.dsp.wav_writer import WavWriter
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

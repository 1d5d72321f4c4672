"""Our SynthDefs on a real scsynth: they load, sound at the right pitch and time, and free themselves."""

import time
import wave

import numpy as np
from pythonosc.osc_bundle_builder import OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from ensemble.supercollider.voices import synthdef_bytes

BUFFER = 0
RECORDER, SQUARE, SAW = 1000, 1001, 1002
HEAD, TAIL = 0, 1  # /s_new add actions
SLACK = 0.020  # seconds


def bundle(unix_time, address, *args):
    """One message in a bundle stamped with `unix_time` (python-osc adds the NTP epoch)."""
    message = OscMessageBuilder(address)
    for arg in args:
        message.add_arg(arg)
    builder = OscBundleBuilder(unix_time)
    builder.add_content(message.build())
    return builder.build().dgram


def load_all(client):
    for data in synthdef_bytes().values():
        client.send("/d_recv", data)
        client.wait_for("/done", "/d_recv")  # raises on /fail


def read_stereo(path):
    with wave.open(str(path), "rb") as file:
        assert (file.getnchannels(), file.getsampwidth()) == (2, 2)
        frames = np.frombuffer(file.readframes(file.getnframes()), "<i2").reshape(-1, 2)
        return frames.astype(float) / 32768.0, file.getframerate()


def peak_frequency(segment, rate):
    size = 1 << 18  # zero-padded: bins of 0.17 Hz
    spectrum = np.abs(np.fft.rfft(segment * np.hanning(len(segment)), size))
    return float(np.argmax(spectrum)) * rate / size


def test_every_synthdef_loads(scsynth):
    with scsynth.client() as client:
        load_all(client)
        client.send("/status")
        assert client.wait_for("/status.reply").params[4] == len(synthdef_bytes())  # numSynthDefs


def test_recorded_voices_have_their_pitch_and_timing_and_free_themselves(scsynth, tmp_path):
    path = tmp_path / "out.wav"
    with scsynth.client() as client:
        load_all(client)
        client.send("/g_new", 1, HEAD, 0)  # sclang's default group 1: plain scsynth has only group 0
        client.send("/b_alloc", BUFFER, 65536, 2)
        client.wait_for("/done", "/b_alloc", BUFFER)
        client.send("/b_write", BUFFER, str(path), "wav", "int16", 0, 0, 1)
        client.wait_for("/done", "/b_write", BUFFER)

        # The recorder runs at the tail of group 0, after group 1 where the voices are.
        start = time.time() + 0.2
        client.send_raw(bundle(start, "/s_new", "ensemble_recorder", RECORDER, TAIL, 0, "bufnum", BUFFER))
        client.send_raw(bundle(start + 0.2, "/s_new", "ensemble_square", SQUARE, HEAD, 1, "freq", 440.0))
        client.send_raw(bundle(start + 0.6, "/s_new", "ensemble_saw", SAW, HEAD, 1, "freq", 330.0))
        time.sleep(start + 1.0 - time.time())  # each note lasts attack + release = 0.305 s

        client.send("/g_queryTree", 0, 0)
        tree = client.wait_for("/g_queryTree.reply").params
        assert tree == [0, 0, 2, 1, 0, RECORDER, -1, "ensemble_recorder"]  # the voices freed themselves
        client.send("/status")
        assert client.wait_for("/status.reply").params[2] == 1  # numSynths

        client.send("/n_free", RECORDER)
        client.send("/sync", 1)
        client.wait_for("/synced", 1)
        client.send("/b_close", BUFFER)
        client.wait_for("/done", "/b_close", BUFFER)
        client.send("/b_free", BUFFER)
        client.wait_for("/done", "/b_free", BUFFER)

    audio, rate = read_stereo(path)
    assert rate == 44100 and len(audio) > 0.95 * rate
    left = audio[:, 0]
    np.testing.assert_allclose(left, audio[:, 1], atol=2 / 32768)  # pan 0: both channels alike
    loud = np.flatnonzero(np.abs(left) > 0.1 * np.abs(left).max())
    first = loud[0] / rate
    second = loud[loud > 0.55 * rate][0] / rate  # the square has died away by then
    assert abs(first - 0.2) < SLACK, first
    assert abs(second - 0.6) < SLACK, second
    assert np.abs(left[: int(0.18 * rate)]).max() < 1e-3  # silence before the first note

    for onset, frequency in ((first, 440.0), (second, 330.0)):
        segment = left[int((onset + 0.01) * rate) : int((onset + 0.2) * rate)]
        assert abs(peak_frequency(segment, rate) / frequency - 1) < 0.005, frequency

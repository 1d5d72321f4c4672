"""The exact OSC bytes that play one note on a SuperCollider server; no server needed."""

import struct
import threading

import pytest
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage

from ensemble.clock import VirtualClock
from ensemble.events import NoteEvent, Sound, TimedNote
from ensemble.supercollider.connection import GROUP
from ensemble.supercollider.nodes import FIRST_ID
from ensemble.supercollider.server_output import (
    ADD_TO_HEAD,
    ATTACK,
    DEFAULT_LATENCY,
    LEVEL,
    SuperColliderOutput,
    note_bundle,
)

NTP_EPOCH = 2_208_988_800  # seconds from 1900-01-01 (NTP's epoch) to 1970-01-01 (Unix's)
SOUND = Sound(voice="square", amp=0.5, pan=-0.25, cutoff=1200.0)


def timed(note=69, velocity=127, duration=0.5, sound=SOUND, due=3.0):
    return TimedNote(NoteEvent("a0", 0.0, 1.0, note, velocity, sound), due=due, duration=duration)


def f32(value):
    """What a value becomes as an OSC float: 32 bits."""
    return struct.unpack(">f", struct.pack(">f", value))[0]


def test_the_bundle_starts_with_its_tag_and_the_ntp_time_of_the_due_time_plus_latency():
    datagram = note_bundle(timed(), node=10_000, level=0.4, unix_due=1_700_000_000.0, latency=0.5)
    assert datagram.startswith(b"#bundle\0")
    seconds, fraction = struct.unpack(">II", datagram[8:16])
    assert seconds == 1_700_000_000 + NTP_EPOCH and fraction == 1 << 31  # .5 s: half of 2**32
    (size,) = struct.unpack(">i", datagram[16:20])
    assert size == len(datagram) - 20  # one element: the /s_new message, and nothing after it


def test_the_bundle_holds_one_s_new_with_every_argument():
    datagram = note_bundle(timed(), node=10_042, level=0.4, unix_due=1_700_000_000.25, latency=0.05)
    bundle = OscBundle(datagram)
    assert bundle.timestamp == pytest.approx(1_700_000_000.3, abs=1e-6)
    assert bundle.num_contents == 1
    message = bundle.content(0)
    assert isinstance(message, OscMessage) and message.address == "/s_new"
    assert message.params == [
        "ensemble_square", 10_042, ADD_TO_HEAD, GROUP,
        "freq", 440.0,  # MIDI 69
        "amp", f32(0.4 * 0.5 * 127 / 127),
        "pan", -0.25,
        "attack", f32(ATTACK),
        "release", f32(0.5 * 0.9),
        "cutoff", 1200.0,
    ]  # fmt: skip
    assert b",siiisfsfsfsfsfsf\0" in datagram  # the OSC type tags: ints as int32, floats as float32


@pytest.mark.parametrize(("note", "hz"), [(57, 220.0), (60, 261.6255653), (81, 880.0)])
def test_freq_is_the_equal_tempered_pitch(note, hz):
    message = OscBundle(note_bundle(timed(note=note), 10_000, 0.4, 1e9, 0.0)).content(0)
    assert message.params[5] == pytest.approx(hz, rel=1e-6)


def test_amp_scales_with_the_level_the_sound_and_the_velocity():
    message = OscBundle(note_bundle(timed(velocity=100), 10_000, 0.2, 1e9, 0.0)).content(0)
    assert message.params[7] == f32(0.2 * 0.5 * 100 / 127)


def test_a_very_short_note_still_gets_a_release_of_ten_milliseconds():
    message = OscBundle(note_bundle(timed(duration=0.001), 10_000, 0.4, 1e9, 0.0)).content(0)
    assert message.params[13] == f32(0.01)


def test_building_is_pure_the_same_arguments_give_the_same_bytes():
    assert note_bundle(timed(), 10_000, 0.4, 1e9, 0.05) == note_bundle(timed(), 10_000, 0.4, 1e9, 0.05)


class Connection:
    """Stands in for the server connection: ready, and keeps every datagram sent."""

    def __init__(self):
        self.ready = threading.Event()
        self.ready.set()
        self.sent = []

    def send(self, datagram):
        self.sent.append(datagram)
        return True


def test_the_output_sends_exactly_that_bundle_with_a_fresh_node_id():
    output = SuperColliderOutput()
    output._clock, output._connection = VirtualClock(), Connection()  # as open() would, without a server
    output.note(timed(due=3.0))
    output.note(timed(due=3.5))
    assert output._connection.sent == [
        note_bundle(timed(due=3.0), FIRST_ID, LEVEL, 3.0, DEFAULT_LATENCY),
        note_bundle(timed(due=3.5), FIRST_ID + 1, LEVEL, 3.5, DEFAULT_LATENCY),
    ]
    assert output.sent == 2


def test_a_note_for_an_output_that_is_not_open_is_ignored():
    output = SuperColliderOutput()
    output.note(timed())
    assert (output.sent, output.dropped) == (0, 0)

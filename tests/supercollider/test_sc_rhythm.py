"""Rhythm on a real scsynth: each note's bundle is stamped at its own start and released at its own
length, as the server receives them (through a relay) and runs them (its /n_go and /n_end)."""

import struct
import threading
import time
from itertools import accumulate

from pythonosc.osc_bundle import OscBundle
from support.listener import Listener
from support.services import OscClient, UdpRelay
from support.waiting import join

from ensemble.clock import RealtimeClock
from ensemble.conductor import Conductor
from ensemble.events import Part, Phrase, Sound
from ensemble.melody import REST
from ensemble.supercollider.connection import GROUP
from ensemble.supercollider.server_output import ATTACK, SuperColliderOutput, midi_to_hz
from ensemble.tempo import TempoMap

TEMPO = 120.0
BEAT = 60.0 / TEMPO  # seconds
RELEASE = 0.9  # of a note's length: the synth's percussive envelope rings this long after its attack

# Two phrases of 4 beats, two agents. a1's D4 ran past the first phrase and was cut at its end.
FIRST = {"a0": [(60, 1), (64, 0.5), (67, 0.5), (REST, 1), (69, 1)],
         "a1": [(55, 0.25), (57, 0.75), (59, 0.0625), (60, 0.9375), (62, 2)]}
SECOND = {"a0": [(69, 2), (67, 1.5), (REST, 0.5)],
          "a1": [(72, 0.125), (71, 0.375), (69, 3.5)]}


def rhythmic(index, start_beat, parts, length_beats=4.0):
    return Phrase(index, start_beat, 0.5, TEMPO,
                  tuple(Part(agent, tuple(n for n, _ in notes), Sound(voice="square"),
                             lengths=tuple(float(length) for _, length in notes))
                        for agent, notes in parts.items()),
                  n_steps=5, length_beats=length_beats)


PHRASES = [rhythmic(0, 0.0, FIRST), rhythmic(1, 4.0, SECOND)]


def expected_notes():
    """(start beat, note, length in beats) of each note played, by start then pitch."""
    found = []
    for phrase in PHRASES:
        for part in phrase.parts:
            lengths = part.lengths or ()
            starts = list(accumulate(lengths, initial=phrase.start_beat))[:-1]
            played = zip(part.notes, lengths, starts, strict=True)
            found += [(start, note, length) for note, length, start in played if note != REST]
    return sorted(found)


class Recorded:
    """The relay's socket towards the server, noting every datagram that passes it."""

    def __init__(self, sock):
        self._sock = sock
        self.sent = []

    def send(self, datagram):
        self.sent.append(datagram)
        return self._sock.send(datagram)

    def __getattr__(self, name):
        return getattr(self._sock, name)


class NodeWatch:
    """A second client of the server: when (Unix time) each synth in our group started and ended."""

    def __init__(self, port):
        self.client = OscClient(port)
        self.client.send("/notify", 1)
        self.client.wait_for("/done", "/notify")
        self.went, self.ended = {}, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        while not self._stop.is_set():
            try:
                reply = self.client.receive(0.1)
            except TimeoutError:
                continue
            if reply.address in ("/n_go", "/n_end") and reply.params[1] == GROUP:
                (self.went if reply.address == "/n_go" else self.ended)[reply.params[0]] = time.time()

    def close(self):
        self._stop.set()
        join(self._thread, 5, "the node watch")
        self.client.close()


def _perform(scsynth):
    """PHRASES played to the server through a relay; returns (output, conductor, clock, bundles,
    node watch): bundles as (time tag in Unix seconds, /s_new arguments), by time tag."""
    watch = NodeWatch(scsynth.port)
    relay = UdpRelay(scsynth.port)
    relay.back = Recorded(relay.back)
    clock = RealtimeClock()
    with relay:
        time.sleep(1.0)  # a fresh scsynth's mapping of OSC time to samples settles in its first seconds
        sc = SuperColliderOutput(port=relay.port)
        conductor = Conductor(iter(PHRASES), TempoMap(TEMPO), [sc, Listener()], clock, lookahead=0.1)
        conductor.run()
        time.sleep(0.3)  # the last synths end
    watch.close()
    bundles = []
    for datagram in relay.back.sent:
        if OscBundle.dgram_is_bundle(datagram):
            bundle = OscBundle(datagram)
            bundles += [(bundle.timestamp, message.params) for message in bundle
                        if message.address == "/s_new" and message.params[3] == GROUP]
    return sc, conductor, clock, sorted(bundles, key=lambda b: (b[0], b[1][5])), watch


def _arg(params, name):
    return params[params.index(name) + 1]


def f32(value):
    """What a value becomes as an OSC float: 32 bits."""
    return struct.unpack(">f", struct.pack(">f", value))[0]


def test_each_bundle_is_tagged_at_its_notes_start_and_released_at_its_length(scsynth):
    sc, conductor, clock, bundles, _ = _perform(scsynth)
    expected = expected_notes()
    assert len(bundles) == len(expected) == sc.sent
    for (tag, params), (start, note, length) in zip(bundles, expected, strict=True):
        assert abs(tag - (clock.unix(conductor.origin + start * BEAT) + sc.latency)) < 1e-6
        assert _arg(params, "freq") == f32(midi_to_hz(note))
        assert abs(_arg(params, "release") - RELEASE * length * BEAT) < 1e-6  # a 32-bit float


def test_the_server_runs_each_synth_from_its_notes_start_for_its_length(jack, scsynth):
    log_from = jack.log_position()
    sc, conductor, clock, bundles, watch = _perform(scsynth)
    slipped = jack.seconds_lost_since(log_from, "SuperCollider")
    nodes = [params[1] for _, params in bundles]
    assert set(nodes) == set(watch.went) == set(watch.ended)
    # As its client hears of them: the server runs a JACK period (5.8 ms) ahead and tells its
    # clients from a thread of its own, so starts and ends are known to a few ms, and a non-realtime
    # jackd may place them up to ~15 ms off (see test_server_output.py). The lengths, 31 ms to
    # 1.75 s, are told apart far beyond that.
    for (tag, params), (_, _, length) in zip(bundles, expected_notes(), strict=True):
        node = params[1]
        assert abs(watch.went[node] - tag) < 0.02 + slipped
        lived = watch.ended[node] - watch.went[node]
        assert abs(lived - (ATTACK + RELEASE * length * BEAT)) < 0.015 + slipped, (lived, length)
    # The note cut at the boundary has ended before the second phrase begins.
    boundary = clock.unix(conductor.origin + 4 * BEAT) + sc.latency
    (d4,) = [params[1] for _, params in bundles if _arg(params, "freq") == f32(midi_to_hz(62))]
    assert watch.ended[d4] < boundary

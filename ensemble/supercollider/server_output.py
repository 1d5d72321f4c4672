"""Notes -> `/s_new` bundles for a SuperCollider server, stamped with their due time.

Each note is its own bundle whose time tag is the note's due time (from logical time) plus
a small latency, so that when it was sent does not matter as long as it arrives early.
"""

from __future__ import annotations

import math

from pythonosc.osc_bundle_builder import OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from ensemble.clock import Clock
from ensemble.events import Phrase, TimedNote
from ensemble.outputs.base import Output
from ensemble.resources import bundled
from ensemble.supercollider.connection import GROUP, ServerConnection, message
from ensemble.supercollider.nodes import NodeIds

DEFAULT_PORT = 57110
DEFAULT_LATENCY = 0.05  # seconds added to every time tag: the server's own slack
LEVEL = 0.4  # one voice's amplitude; the mix is scaled by 1/sqrt(voices)
ATTACK = 0.005
CONNECT_WAIT = 1.0  # how long `open` waits for the server before playing on without it
ADD_TO_HEAD = 0


def midi_to_hz(note: int) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12.0)


def load_synthdefs() -> list[bytes]:
    """The compiled SynthDefs in patches/supercollider, sent to the server with /d_recv."""
    return [path.read_bytes() for path in sorted((bundled("patches") / "supercollider").glob("*.scsyndef"))]


def note_bundle(note: TimedNote, node: int, level: float, unix_due: float, latency: float) -> bytes:
    """The OSC bundle that plays `note` as synth `node` at `unix_due + latency` (Unix seconds).

    `level` is one voice's share of the mix; the note's sound and velocity scale it.
    """
    event, sound = note.event, note.event.sound
    builder = OscMessageBuilder(address="/s_new")
    for arg in (f"ensemble_{sound.voice}", node, ADD_TO_HEAD, GROUP,
                "freq", midi_to_hz(event.note), "amp", level * sound.amp * event.velocity / 127,
                "pan", sound.pan, "attack", ATTACK, "release", max(0.01, note.duration * 0.9),
                "cutoff", sound.cutoff):
        builder.add_arg(arg)
    # python-osc adds the NTP epoch and takes fractional seconds, though it is typed as int.
    bundle = OscBundleBuilder(unix_due + latency)  # type: ignore[arg-type]
    bundle.add_content(builder.build())
    return bundle.build().dgram


class SuperColliderOutput(Output):
    name = "sc"

    def __init__(self, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                 latency: float = DEFAULT_LATENCY) -> None:
        super().__init__()
        self.host, self.port, self.latency = host, port, latency
        self.sent = 0
        self.dropped = 0  # notes that came while the server was away
        self._malformed_closed = 0  # unreadable packets counted by connections already closed
        self.nodes = NodeIds()
        self._level = LEVEL
        self._connection: ServerConnection | None = None

    @property
    def malformed(self) -> int:
        """Packets from the server's address that could not be read and were dropped."""
        open_now = self._connection.malformed if self._connection is not None else 0
        return self._malformed_closed + open_now

    def open(self, clock: Clock) -> None:
        self._clock = clock
        self._connection = ServerConnection(self.host, self.port, load_synthdefs(), self.report,
                                            on_ready=self.nodes.reset)
        self._connection.listen(self.nodes.observe)
        self._connection.start()
        if not self._connection.ready.wait(CONNECT_WAIT):
            self.report(f"no server at {self.host}:{self.port} yet; playing on, and joining when it answers")

    def phrase(self, phrase: Phrase, start: float) -> None:
        self._level = LEVEL / math.sqrt(max(1, len(phrase.parts)))

    def note(self, note: TimedNote) -> None:
        if self._connection is None:
            return  # not open (or closed already): nothing to play on
        if not self._connection.ready.is_set():
            self.dropped += 1
            return
        at = self._clock.unix(note.due)
        if self._connection.send(note_bundle(note, self.nodes.allocate(), self._level, at, self.latency)):
            self.sent += 1
        else:
            self.dropped += 1

    def close(self) -> None:
        if self._connection is None:
            return
        # Bundles already sent but not yet due would still sound: clear them, then free ours.
        for datagram in (message("/clearSched"), message("/g_freeAll", GROUP), message("/n_free", GROUP)):
            self._connection.send(datagram)
        self._connection.close()
        self._malformed_closed += self._connection.malformed
        self._connection = None

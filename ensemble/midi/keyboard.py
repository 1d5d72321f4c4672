"""A MIDI keyboard as the seed: what the performer plays on a JACK MIDI input becomes a Melody.

A Capture (capture.py) fed by a JACK MIDI input (jack_input.py), behind a lock: the
input's thread writes, the conductor's (and the REPL's) thread reads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from ensemble.melody import Melody
from ensemble.midi.capture import Capture, Request
from ensemble.midi.jack_input import JackMidiInput


class Keyboard:
    """A MIDI keyboard on JACK whose playing is captured as melodies; safe from any thread.

    `connect_to`: a part of an existing output port's name (the keyboard's, e.g. `a2j:Keystation`);
    None offers `client:port` to connect a keyboard to. Raises UserError when there is no JACK
    server or no such port. A port or server that goes is reported (`drain_messages`) and read
    again when it is back.
    """

    def __init__(self, connect_to: str | None = None, client: str = "ensemble-midi-in",
                 port: str = "midi-in") -> None:
        self._capture = Capture()
        self._lock = threading.Lock()
        self._input = JackMidiInput(self._receive, connect_to, client=client, port=port, label="midi in")

    @property
    def port_name(self) -> str:
        """The port read: the keyboard's, or our own `client:port`."""
        return self._input.port_name

    def capture(self, steps: int, step_seconds: float, beat_seconds: float, rhythm: bool) -> None:
        """Capture the next `steps` steps (with rhythm: notes) played; raises UserError under 1."""
        request = Request(steps, step_seconds, beat_seconds, rhythm)
        with self._lock:
            self._capture.capture(request)

    def follow(self, steps: int, step_seconds: float, beat_seconds: float, rhythm: bool) -> None:
        """As `capture`, again and again until `off`."""
        request = Request(steps, step_seconds, beat_seconds, rhythm)
        with self._lock:
            self._capture.follow(request)

    def off(self) -> None:
        with self._lock:
            self._capture.off()

    @property
    def following(self) -> bool:
        with self._lock:
            return self._capture.following

    def take(self) -> Melody | None:
        """The newest capture completed and not taken yet, if any."""
        with self._lock:
            return self._capture.take(time.monotonic())

    def status(self) -> str:
        with self._lock:
            return self._capture.status(time.monotonic())

    def drain_messages(self) -> list[str]:
        return self._input.drain_messages()

    def close(self) -> None:
        self._input.close()

    def _receive(self, message: Sequence[int], when: float) -> None:
        with self._lock:
            self._capture.receive(message, when)


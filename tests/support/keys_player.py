"""A MIDI keyboard for tests: a plain rtmidi sender on JACK playing notes at given times."""

from __future__ import annotations

import time

import rtmidi


class Player:
    """A plain rtmidi sender on JACK: a port of its own (`keys:out`), or connected to `to`."""

    def __init__(self, to: str | None = None) -> None:
        self.port = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="keys")
        if to is None:
            self.port.open_virtual_port("out")
        else:
            self.port.open_port(self.port.get_ports().index(to), "out")

    def play(self, notes: list[tuple[int, float, float]], start: float) -> None:
        """Each (note, onset, length) in seconds after `start` (a time.monotonic() reading)."""
        events = sorted([(start + on, [0x90, note, 100]) for note, on, _ in notes]
                        + [(start + on + length, [0x90, note, 0]) for note, on, length in notes])
        for due, message in events:
            time.sleep(max(0.0, due - time.monotonic()))
            self.port.send_message(message)

    def close(self) -> None:
        self.port.close_port()
        self.port.delete()

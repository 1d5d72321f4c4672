"""A JACK MIDI input for tests: what a synth would receive, and when."""

from __future__ import annotations

import threading
import time

import mido
import rtmidi

from support.waiting import join


class Synth:
    """A JACK MIDI input (python-rtmidi) that notes the arrival time of everything it receives:
    a port of its own (`name`) that ensemble connects to, or connected to ensemble's (`connect_to`).

    Read by polling rtmidi's queue: mido's input callback was seen to garble messages that
    arrive together, which `jack_midi_dump` received intact.
    """

    def __init__(self, name: str = "synth", connect_to: str | None = None) -> None:
        self.received: list[tuple[float, mido.Message]] = []
        self.port = rtmidi.MidiIn(rtapi=rtmidi.API_UNIX_JACK, name=name if connect_to is None else "listener")
        if connect_to is None:
            self.port.open_virtual_port(name)
        else:
            self.port.open_port(self.port.get_ports().index(connect_to))
        self.port.ignore_types(timing=False)  # MIDI clock is part of what is checked
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            event = self.port.get_message()
            if event is None:
                time.sleep(0.0005)
                continue
            self.received.append((time.monotonic(), mido.Message.from_bytes(event[0])))

    def of_type(self, kind: str) -> list[tuple[float, mido.Message]]:
        return [(at, message) for at, message in self.received if message.type == kind]

    def note_ons(self) -> list[float]:
        """When each sounding note-on arrived (a note-on of velocity 0 is a note-off)."""
        return [at for at, message in self.of_type("note_on") if message.velocity > 0]

    def close(self) -> None:
        self._stop.set()
        join(self._reader, 5, "the MIDI listener's reader")
        self.port.close_port()
        self.port.delete()

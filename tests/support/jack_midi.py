"""A JACK MIDI input for tests: what a synth would receive, and when."""

from __future__ import annotations

from collections.abc import Sequence

import mido

from ensemble.midi.jack_input import JackMidiInput


class Synth:
    """A JACK MIDI input that notes the time of everything it receives: a port of its own
    (`name:name`) that ensemble connects to, or connected to ensemble's (`connect_to`).

    Read through ensemble's JACK MIDI input (a reader process that times each event by its JACK
    frame, the time a synth would play it): RtMidi's JACK input was seen to crash a test run.
    """

    def __init__(self, name: str = "synth", connect_to: str | None = None) -> None:
        self.received: list[tuple[float, mido.Message]] = []
        client = name if connect_to is None else "listener"
        # MIDI clock is part of what is checked.
        self.port = JackMidiInput(self._take, connect_to, client=client, port=name, timing=True, label=name)

    def _take(self, message: Sequence[int], when: float) -> None:
        self.received.append((when, mido.Message.from_bytes(list(message))))

    def of_type(self, kind: str) -> list[tuple[float, mido.Message]]:
        return [(at, message) for at, message in self.received if message.type == kind]

    def note_ons(self) -> list[float]:
        """When each sounding note-on arrived (a note-on of velocity 0 is a note-off)."""
        return [at for at, message in self.of_type("note_on") if message.velocity > 0]

    def close(self) -> None:
        self.port.close()

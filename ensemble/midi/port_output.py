"""Notes -> MIDI messages on a port, each agent on its channel, sent on time by a sender thread.

The port is watched: when it disappears (a synth unplugged, a JACK client gone) one line
says so, the notes it was sounding are forgotten and the other outputs play on; when it is
back it is opened again. Optionally sends MIDI clock (24 pulses per beat, start and stop) so
that a drum machine or a DAW can follow the ensemble's tempo.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import mido

from ensemble.clock import Clock
from ensemble.errors import UserError
from ensemble.events import ARTICULATION, Phrase, Sound, TimedNote
from ensemble.midi import ports
from ensemble.midi.sender import ALL_NOTES_OFF, MidiSender
from ensemble.mix import Mix
from ensemble.outputs.base import Output

PULSES_PER_BEAT = 24
WATCH_INTERVAL = 1.0  # seconds between checks that the port is still there
FLUSH = 0.05  # seconds to let the last messages leave before the port closes


class MidiOutput(Output):
    name = "midi"

    def __init__(self, port: str | None = None, backend: str | None = None, clock_out: bool = False) -> None:
        super().__init__()
        self.port_wanted = port
        self.backend_name = backend
        self.clock_out = clock_out
        self.sender: MidiSender | None = None
        self._port: Any = None
        self._port_name: str | None = None
        self._directory: ports.PortDirectory | None = None
        self._watcher: threading.Thread | None = None
        self._lost = threading.Event()
        self._closing = threading.Event()
        self._programs: dict[int, int] = {}  # channel -> program sent
        self._channels: set[int] = set()  # channels that played in the last phrase
        self._started_clock = False

    def open(self, clock: Clock) -> None:
        self._midi = ports.backend(self.backend_name)
        if self.port_wanted is None:
            self._port = ports.open_port(self._midi, None)  # our own virtual port: it cannot vanish
        else:
            directory = self._directory = ports.PortDirectory(self._midi)  # no MIDI system: an error, here
            names = directory.names()
            try:
                self._port_name = ports.resolve(self.port_wanted, names)
                self._port = ports.open_port(self._midi, self._port_name)
            except UserError as error:  # not there (yet): play on and wait for it
                self._lost.set()
                self.report(f"{str(error).removeprefix('midi: ')}; playing on, and waiting for it")
            self._watcher = threading.Thread(target=self._watch, args=(self.port_wanted, directory),
                                             name="midi-watch", daemon=True)
            self._watcher.start()
        self.sender = MidiSender(clock, self._send, self._port_failed)
        self.sender.start()

    def phrase(self, phrase: Phrase, start: float) -> None:
        sender = self.sender
        if sender is None:
            return  # not open: nothing to send on
        self._sounding(sender, [part.sound for part in phrase.parts], start)
        if self.clock_out:
            self._clock_pulses(sender, phrase, start)

    def remix(self, mix: Mix, at: float) -> None:
        """Mid-phrase: a muted agent's sounding notes stop now (All Notes Off on its channel, unless
        a heard agent shares it); a program set now is sent now."""
        if self.sender is not None:
            heard = [sound for agent, (sound, _) in mix.sounds.items() if agent not in mix.muted]
            self._sounding(self.sender, heard, at)

    def _sounding(self, sender: MidiSender, sounds: list[Sound], at: float) -> None:
        """From `at` these sounds are heard: a channel none of them uses is silenced (a muted,
        killed or moved agent's notes may not hang), and a program not sent yet is sent."""
        channels = {sound.channel - 1 for sound in sounds}
        for channel in sorted(self._channels - channels):
            sender.schedule(at, mido.Message("control_change", channel=channel, control=ALL_NOTES_OFF))
        self._channels = channels
        for sound in sounds:
            program, channel = sound.program, sound.channel - 1
            if program is not None and self._programs.get(channel) != program:
                self._programs[channel] = program
                sender.schedule(at, mido.Message("program_change", channel=channel, program=program))

    def note(self, note: TimedNote) -> None:
        if self.sender is None:
            return  # not open: nothing to send on
        event, channel = note.event, note.event.sound.channel - 1
        self.sender.schedule(note.due, mido.Message("note_on", channel=channel, note=event.note,
                                                    velocity=event.velocity))
        self.sender.schedule(note.due + note.duration * ARTICULATION,
                             mido.Message("note_off", channel=channel, note=event.note))

    def end(self, at: float) -> None:
        if self.clock_out and self.sender is not None:
            self.sender.schedule(at, mido.Message("stop"))

    def close(self) -> None:
        self._closing.set()
        if self.sender is not None:
            self.sender.stop()  # sends the note-offs
        if self._port is not None:
            time.sleep(FLUSH)  # the driver sends on its next period: closing at once can drop note-offs
            self._port.close()
            self._port = None
        if self._watcher is not None:
            self._watcher.join(timeout=2 * WATCH_INTERVAL)
        if self._directory is not None:
            # Only now: with rtmidi's JACK API, closing another client of ours while messages wait
            # to leave was seen to garble them.
            self._directory.close()

    def _clock_pulses(self, sender: MidiSender, phrase: Phrase, start: float) -> None:
        if not self._started_clock:
            self._started_clock = True
            sender.schedule(start, mido.Message("start"))
        pulse = 60.0 / phrase.tempo / PULSES_PER_BEAT
        for index in range(round(phrase.beats * PULSES_PER_BEAT)):
            sender.schedule(start + index * pulse, mido.Message("clock"))

    # -- the port coming and going ------------------------------------------------------------

    def _send(self, message: mido.Message) -> None:
        if self._lost.is_set() or self._port is None:
            return  # dropped while the port is away
        self._port.send(message)

    def _port_failed(self, error: Exception) -> None:
        if not self._lost.is_set():
            self._lost.set()
            self.report(f"lost port {self._port_name or ports.VIRTUAL_PORT} ({error}); the others play on")

    def _watch(self, wanted: str, directory: ports.PortDirectory) -> None:
        while not self._closing.wait(WATCH_INTERVAL):
            try:  # any failure here means the port, or the MIDI system with it, is gone
                found: str | None = ports.resolve(wanted, directory.names())
            except Exception:
                found = None
            if found is None and not self._lost.is_set():
                self._lost.set()
                if self.sender is not None:
                    self.sender.forget_sounding()
                self.report(f"port {self._port_name} went away; the others play on, waiting for it")
            elif found is not None and self._lost.is_set():
                self._reopen(found)

    def _reopen(self, name: str) -> None:
        try:
            port = ports.open_port(self._midi, name)
        except Exception:  # not back after all: try again next time
            return
        self._port_name = name
        old, self._port = self._port, port
        if old is not None:
            old.close()
        self._programs.clear()  # the synth may have forgotten them
        self._lost.clear()
        self.report(f"port {self._port_name} is back")

"""Notes -> MIDI messages on a port, each agent on its channel, sent on time by a sender thread.

The port is watched: when it disappears (a synth unplugged, a JACK client gone) one line
says so, the notes it was sounding are forgotten and the other outputs play on; when it is
back it is opened again. With JACK the server is watched too (see jack_server.py): when it
goes, one line says so and our clients are let go; when a server runs again, our port is
registered on it again (and connected to the named port, once that is there), with one line.
Optionally sends MIDI clock (24 pulses per beat, start and stop) so that a drum machine or a
DAW can follow the ensemble's tempo.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import mido

from ensemble.clock import Clock
from ensemble.errors import UserError
from ensemble.events import ARTICULATION, Phrase, Sound, TimedNote
from ensemble.midi import ports
from ensemble.midi.jack_server import ServerWatch
from ensemble.midi.sender import ALL_NOTES_OFF, MidiSender
from ensemble.mix import Mix
from ensemble.outputs.base import Output

PULSES_PER_BEAT = 24
WATCH_INTERVAL = 1.0  # seconds between checks that the port (and JACK server) is still there
FLUSH = 0.05  # seconds to let the last messages leave before the port closes
ON_GRID = 1e-6  # pulses: a beat this close to a pulse's is on it (float sums of lengths)


def pulse_offsets(phrase: Phrase) -> list[float]:
    """Where a phrase's MIDI clock pulses fall, in pulses from its start: on the performance's
    grid, one every 1/24 beat from beat 0. A phrase need not last a whole number of pulses (an
    odd number of sixteenths, a step of 0.3 beat): counted from each phrase's own start, the
    clock would stutter at every boundary.
    """
    first = phrase.start_beat * PULSES_PER_BEAT
    end = first + phrase.beats * PULSES_PER_BEAT
    return [pulse - first for pulse in range(math.ceil(first - ON_GRID), math.ceil(end - ON_GRID))]


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
        self._server: ServerWatch | None = None  # with JACK: the server our clients joined
        self._server_away = False
        self._lost = threading.Event()  # nothing is sent: the port, or the server, is away
        self._closing = threading.Event()
        self._look = threading.Event()  # the watcher looks now, not at its next interval
        self._programs: dict[int, int] = {}  # channel -> program sent
        self._channels: set[int] = set()  # channels that played in the last phrase
        self._started_clock = False

    def open(self, clock: Clock) -> None:
        self._midi = ports.backend(self.backend_name)
        server = ServerWatch() if ports.is_jack(self._midi) else None
        watched = server is not None and server.join()  # before our clients join it
        if self.port_wanted is None:
            self._port = ports.open_port(self._midi, None)  # our own port: only its server can take it
        else:
            self._directory = ports.PortDirectory(self._midi)  # no MIDI system: an error, here
            names = self._directory.names()
            try:
                self._port_name = ports.resolve(self.port_wanted, names)
                self._port = ports.open_port(self._midi, self._port_name)
            except UserError as error:  # not there (yet): play on and wait for it
                self._lost.set()
                self.report(f"{str(error).removeprefix('midi: ')}; playing on, and waiting for it")
        # A JACK that is not jack2's (PipeWire's, say) has no socket to ask: its server goes unwatched.
        self._server = server if watched else None
        if self.port_wanted is not None or self._server is not None:
            self._watcher = threading.Thread(target=self._watch, name="midi-watch", daemon=True)
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

    def retime(self, rest: Phrase, start: float) -> None:
        """The clock pulses still to come take the new tempo."""
        if self.clock_out and self.sender is not None:
            self.sender.drop_from(start, "clock")
            self._clock_pulses(self.sender, rest, start)

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

    def hold(self, at: float) -> None:
        if self.sender is not None:
            self.sender.silence()  # what was queued for the lookahead ahead is dropped, notes end

    def end(self, at: float) -> None:
        if self.clock_out and self.sender is not None:
            self.sender.schedule(at, mido.Message("stop"))

    def close(self) -> None:
        self._closing.set()
        self._look.set()
        if self._watcher is not None:
            self._watcher.join(timeout=2 * WATCH_INTERVAL)  # from here no client changes hands
        if self.sender is not None:
            self.sender.stop()  # sends the note-offs
        # Clients of a server that has gone are let go, never closed (see ports.abandon).
        server_gone = self._server is not None and not self._server.still_joined()
        port, self._port = self._port, None
        if port is not None and server_gone:
            ports.abandon(port)
        elif port is not None:
            time.sleep(FLUSH)  # the driver sends on its next period: closing at once can drop note-offs
            port.close()
        directory, self._directory = self._directory, None
        if directory is not None and server_gone:
            directory.abandon()
        elif directory is not None:
            # Only now: with rtmidi's JACK API, closing another client of ours while messages wait
            # to leave was seen to garble them.
            directory.close()

    def _clock_pulses(self, sender: MidiSender, phrase: Phrase, start: float) -> None:
        if not self._started_clock:
            self._started_clock = True
            sender.schedule(start, mido.Message("start"))
        pulse = 60.0 / phrase.tempo / PULSES_PER_BEAT
        for offset in pulse_offsets(phrase):
            sender.schedule(start + offset * pulse, mido.Message("clock"))

    # -- the port, and the JACK server, coming and going ---------------------------------------

    def _send(self, message: mido.Message) -> None:
        port = self._port  # once: the watcher may swap it meanwhile
        if port is None or self._lost.is_set():
            return  # dropped while the port is away
        if self._server is not None and not self._server.may_send():
            self._look.set()  # the server went: dropped, and the watcher says so now
            return
        port.send(message)

    def _port_failed(self, error: Exception) -> None:
        if not self._lost.is_set():
            self._lost.set()
            self.report(f"lost port {self._port_name or ports.VIRTUAL_PORT} ({error}); the others play on")

    def _watch(self) -> None:
        while True:
            self._look.wait(WATCH_INTERVAL)
            self._look.clear()
            if self._closing.is_set():
                return
            if self._server is not None and not self._server_there(self._server):
                continue
            if self.port_wanted is not None and self._directory is not None:
                self._follow_port(self.port_wanted, self._directory)

    def _server_there(self, server: ServerWatch) -> bool:
        """Whether the server our clients joined runs: when it has gone, say so and let them go;
        when one runs again, join it."""
        if not self._server_away:
            if server.still_joined():
                return True
            self._leave_server(server)
            return False
        return server.join() and self._rejoin_server(server)

    def _leave_server(self, server: ServerWatch) -> None:
        self._lost.set()
        self._server_away = True
        if self.sender is not None:
            self.sender.forget_sounding()  # they went with the server
        port, self._port = self._port, None
        if port is not None:
            ports.abandon(port)
        directory, self._directory = self._directory, None
        if directory is not None:
            directory.abandon()
        self.report(f"lost the JACK server '{server.name}'; the others play on, retrying")

    def _rejoin_server(self, server: ServerWatch) -> bool:
        """A server runs again: our port registered on it, and connected to the named port if that
        is there already (else the port watch waits for it). False: try again next time."""
        back = f"back on the JACK server '{server.name}'"
        if self.port_wanted is None:
            try:
                port = ports.open_port(self._midi, None)
            except UserError:  # it answers, but takes no client yet
                return False
            self._server_away = False
            self._use(port, None)
            self.report(back)
            return True
        try:
            self._directory = ports.PortDirectory(self._midi)
        except UserError:
            return False
        self._server_away = False
        try:
            name = ports.resolve(self.port_wanted, self._directory.names())
            port = ports.open_port(self._midi, name)
        except UserError:
            self.report(f"{back}; waiting for port '{self.port_wanted}'")
            return True
        self._use(port, name)
        self.report(f"{back}, on port {name}")
        return True

    def _follow_port(self, wanted: str, directory: ports.PortDirectory) -> None:
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
        old = self._port
        self._use(port, name)
        if old is not None:
            old.close()  # its server still runs (or it would have been let go): closing is safe
        self.report(f"port {self._port_name} is back")

    def _use(self, port: Any, name: str | None) -> None:
        self._port_name = name
        self._port = port
        self._programs.clear()  # the synth may have forgotten them
        self._started_clock = False  # nor has a device that came back heard `start`
        self._lost.clear()

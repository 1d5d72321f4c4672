"""A JACK MIDI input read by a polling thread of ours, watched as the MIDI output is.

python-rtmidi's JACK API with no rtmidi callback: RtMidi queues what arrives in C++ and our
thread takes it from there, so Python stays out of JACK's realtime cycle (FACTS.md: a Python
input callback loses events under load). Event times are RtMidi's deltas (taken JACK-side),
summed from the first event and anchored to `time.monotonic()`, so the polling interval adds
no jitter: to the earliest arrival seen (each event's arrival less the deltas summed up to it),
so that the anchor is the event read the soonest after it came, not the first one, however late
that was read. The anchor may creep later by ANCHOR_LEAK an event, should JACK's clock and ours
drift apart. They run on across a reconnection (same client, same JACK clock); a new
client, after a server restart, starts a new anchor.

The input either connects to an existing output port (named by a part of its name) or offers a
port of its own. The same thread watches, every WATCH_INTERVAL: the port it connected to (gone:
one line, and reconnected with one line when it is back), and the JACK server (see
jack_server.py: a client of a server that has gone is let go, never closed, and a new one joins
the next server that runs). Its lines wait in a queue for `drain_messages`, as an output's do.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from ensemble.errors import UserError
from ensemble.messages import Talks
from ensemble.midi import libjack_quiet, ports
from ensemble.midi.jack_server import ServerWatch

ANCHOR_LEAK = 1e-6  # seconds an event by which the anchor may move later (clock drift)
WATCH_INTERVAL = 0.5  # seconds between checks that the port (and the JACK server) is still there
JOIN_TIMEOUT = 5.0  # seconds `close` waits for the reading thread

Handler = Callable[[Sequence[int], float], None]
"""Takes one MIDI message (its bytes) and its event time (time.monotonic() seconds)."""


class PolledInput(Talks):
    """Hands every message arriving on a JACK MIDI input to `handle`, from a thread of ours.

    `connect_to`: a part of an existing output port's name (e.g. `drums:out`), which must match
    one port; None offers `client:port` for a sender to connect to. `timing`: whether MIDI clock
    and other realtime messages are passed on (else RtMidi drops them). `label` starts each line
    the input reports (`midi in: port x:y went away; waiting for it`). Raises UserError when
    there is no JACK server or no such port.
    """

    def __init__(self, handle: Handler, connect_to: str | None = None, client: str = "ensemble-midi-in",
                 port: str = "midi-in", poll: float = 0.001, timing: bool = False,
                 label: str = "midi in", watch: float = WATCH_INTERVAL) -> None:
        libjack_quiet.silence()
        self.handle = handle
        self.connect_to = connect_to
        self.client, self.port = client, port
        self.poll, self.watch = poll, watch
        self.timing = timing
        super().__init__()
        self.label = self.name = label
        server = ServerWatch()
        watched = server.join()  # before our client joins it (see jack_server.py)
        self._input: Any = self._new_client()
        if self._input is None:
            raise UserError(f"{label}: no JACK server is running (server '{server.name}')")
        self._connected: str | None = None  # the port we read, when connected to one
        self._port_lost = False  # the port we connected to has gone: waiting for it
        self._server_away = False
        if connect_to is None:
            self._input.open_virtual_port(port)
        else:
            try:
                found = ports.resolve(connect_to, self._input.get_ports())
                self._connected = self._connect(self._input, found)
            except UserError as error:
                self._input.delete()
                raise UserError(f"{label}: {str(error).removeprefix('midi: ')}") from None
        # A JACK that is not jack2's (PipeWire's, say) has no socket to ask: its server goes unwatched.
        self._server = server if watched else None
        self._anchor: float | None = None  # monotonic time of the client's first event
        self._elapsed = 0.0  # the sum of RtMidi's deltas since then
        self._last_failure: str | None = None
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._run, name=f"{label}-reader", daemon=True)
        self._reader.start()

    @property
    def port_name(self) -> str:
        """The port read: the one connected to, or our own `client:port`."""
        return self._connected or f"{self.client}:{self.port}"

    def close(self) -> None:
        self._stop.set()
        self._reader.join(JOIN_TIMEOUT)
        client, self._input = self._input, None
        if client is None:
            return
        if self._server is not None and not self._server.still_joined():
            ports.abandon(client)  # its server has gone: closing it would crash (see ports.abandon)
            return
        client.close_port()
        client.delete()

    # -- reading ---------------------------------------------------------------------------------

    def _run(self) -> None:
        next_look = time.monotonic() + self.watch
        while not self._stop.is_set():
            read = self._read_waiting()
            if time.monotonic() >= next_look:
                try:
                    self._look()
                except Exception as error:  # the watch failing may not end the reading: said once
                    self._say_once(f"watching the port failed ({type(error).__name__}: {error})")
                next_look = time.monotonic() + self.watch
            if not read:
                time.sleep(self.poll)

    def _read_waiting(self) -> bool:
        """Hands on what RtMidi has queued; whether there was anything."""
        client = self._input
        if client is None:
            return False
        read = False
        while (event := client.get_message()) is not None:
            read = True
            message, delta = event
            arrived = time.monotonic()
            if self._anchor is None:
                self._anchor, self._elapsed = arrived, 0.0
            else:
                self._elapsed += delta
                self._anchor = min(self._anchor + ANCHOR_LEAK, arrived - self._elapsed)
            self._deliver(message, self._anchor + self._elapsed)
        return read

    def _deliver(self, message: Sequence[int], when: float) -> None:
        try:
            self.handle(message, when)
        except Exception as error:  # nothing a device sends may end the input: said once, dropped
            self._say_once(f"a message was dropped ({type(error).__name__}: {error})")

    def _say_once(self, failure: str) -> None:
        """Reports a failure unless it is the one reported last (it may recur at every message)."""
        if failure != self._last_failure:
            self._last_failure = failure
            self.report(failure)

    # -- the port, and the JACK server, coming and going -----------------------------------------

    def _new_client(self) -> Any:
        """A new rtmidi input client on the running JACK server, or None when none takes it."""
        import rtmidi

        try:
            client = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name=self.client)
        except (OSError, rtmidi.RtMidiError):  # rtmidi.SystemError is an OSError
            return None
        client.ignore_types(sysex=True, timing=not self.timing, active_sense=True)
        return client

    def _connect(self, client: Any, name: str) -> str:
        """Reads port `name` (listed by `client` just now); raises UserError if it went meanwhile."""
        try:
            client.open_port(client.get_ports().index(name), self.port)
        except ValueError:
            raise UserError(f"port {name} went away") from None
        return name

    def _look(self) -> None:
        server = self._server
        if server is not None:
            if self._server_away:
                if server.join():
                    self._rejoin(server)
                return
            if not server.still_joined():
                self._leave(server)
                return
        if self.connect_to is not None and self._input is not None:
            self._follow_port(self._input, self.connect_to)

    def _leave(self, server: ServerWatch) -> None:
        self._server_away = True
        client, self._input = self._input, None
        if client is not None:
            ports.abandon(client)
        self.report(f"lost the JACK server '{server.name}'; waiting for it")

    def _rejoin(self, server: ServerWatch) -> None:
        """A server runs again: a new client on it, reading our port or the one named (if it is
        there; else the port watch waits for it). Nothing changes if it takes no client yet."""
        import rtmidi

        client = self._new_client()
        if client is None:
            return
        back = f"back on the JACK server '{server.name}'"
        if self.connect_to is None:
            try:
                client.open_virtual_port(self.port)
            except (OSError, rtmidi.RtMidiError):  # it takes clients, but no port yet: next time
                client.delete()
                return
        self._server_away, self._input, self._anchor = False, client, None  # a new client: a new anchor
        if self.connect_to is None:
            self.report(back)
            return
        found = self._find(client.get_ports(), self.connect_to)
        if found is not None:
            try:
                self._connected, self._port_lost = self._connect(client, found), False
                self.report(f"{back}, reading port {found}")
                return
            except UserError:
                pass  # gone again meanwhile: the port watch waits for it
        self._port_lost = True
        self.report(f"{back}; waiting for port '{self.connect_to}'")

    def _follow_port(self, client: Any, wanted: str) -> None:
        names = client.get_ports()
        if not self._port_lost:
            if self._connected not in names:
                self._port_lost = True
                self.report(f"port {self._connected} went away; waiting for it")
            return
        found = self._find(names, wanted)
        if found is None:
            return
        try:
            if client.is_port_open():
                client.close_port()  # registered anew by open_port, and connected to the port
            self._connected, self._port_lost = self._connect(client, found), False
        except UserError:
            return  # gone again meanwhile: next time
        self.report(f"port {found} is back, reconnected")

    def _find(self, names: list[str], wanted: str) -> str | None:
        """The port we read before, if it is back; else the one `wanted` names, if just one."""
        if self._connected in names:
            return self._connected
        try:
            return ports.resolve(wanted, names)
        except UserError:
            return None

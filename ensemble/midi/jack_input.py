"""A JACK MIDI input: a reader process of ours (jack_reader.py) reads the port in JACK's
realtime cycle; a thread here hands each message on, with the time JACK gives it.

The reader is a child process so that nothing in libjack's threads can end the performance
(RtMidi's JACK input was seen to crash a whole process), and JACK's realtime callback never
waits for our GIL. Its times are JACK's: each event's frame in the cycle, turned into
time.monotonic() seconds, so how late our thread reads adds no jitter.

The input either connects to an existing output port (named by a part of its name) or offers a
port of its own. The reader watches, every WATCH_INTERVAL, the port it connected to (gone: one
line, and connected again with one line when it is back) and the JACK server. When the server
goes, the reader ends; a new one starts once a server runs again. A reader that ends any other
way (a crash) is started again at once. Every line waits in a queue for `drain_messages`, as an
output's do.
"""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from ensemble.errors import UserError
from ensemble.messages import Talks
from ensemble.midi import jack_server

WATCH_INTERVAL = 0.5  # seconds between the reader's looks at its port and server
START_TIMEOUT = 10.0  # seconds a new reader may take to join JACK and say so
JOIN_TIMEOUT = 5.0  # seconds `close` waits for the reader to end before killing it
PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # where `ensemble` is imported from

Handler = Callable[[Sequence[int], float], None]
"""Takes one MIDI message (its bytes) and its event time (time.monotonic() seconds)."""


class JackMidiInput(Talks):
    """Hands every message arriving on a JACK MIDI input to `handle`, from a thread of ours.

    `connect_to`: a part of an existing output port's name (e.g. `drums:out`), which must match
    one port; None offers `client:port` for a sender to connect to. `timing`: whether MIDI clock
    is passed on (else dropped, as are system exclusive and active sensing). `label` starts each
    line the input reports (`midi in: port x:y went away; waiting for it`). Raises UserError
    when there is no JACK server or no such port.
    """

    def __init__(self, handle: Handler, connect_to: str | None = None, client: str = "ensemble-midi-in",
                 port: str = "midi-in", timing: bool = False, label: str = "midi in",
                 watch: float = WATCH_INTERVAL) -> None:
        super().__init__()
        self.handle = handle
        self.connect_to = connect_to
        self.client, self.port = client, port
        self.timing, self.watch = timing, watch
        self.label = self.name = label
        self.server = jack_server.server_name()
        self._port_read: str | None = None  # as the reader last said (kept when it goes: preferred back)
        self._last_failure: str | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()  # over `_reader_process`, which `close` and our thread change
        self._started: queue.Queue[str] = queue.Queue()
        self._crashed = False  # the last reader crashed (rather than its server going)
        self._reader_process = self._spawn(rejoin=False)
        self._thread = threading.Thread(target=self._run, name=f"{label}-reader", daemon=True)
        self._thread.start()
        try:
            first = self._started.get(timeout=START_TIMEOUT)
        except queue.Empty:
            first = "error the JACK MIDI reader did not start in time"
        if first.startswith("error "):
            self.close()
            problem = first.removeprefix("error ")
            if problem == "no-server":
                problem = f"no JACK server is running (server '{self.server}')"
            raise UserError(f"{label}: {problem}")

    @property
    def port_name(self) -> str:
        """The port read: the one connected to, or our own `client:port`."""
        return self._port_read or f"{self.client}:{self.port}"

    @property
    def reader_pid(self) -> int:
        return self._reader_process.pid

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            reader = self._reader_process
        _let_go(reader)
        self._thread.join(JOIN_TIMEOUT)
        try:
            reader.wait(JOIN_TIMEOUT)
        except subprocess.TimeoutExpired:
            reader.kill()  # stuck in libjack (a server gone mid-close): it may end no other way
            reader.wait()

    # -- the reader process ----------------------------------------------------------------------

    def _spawn(self, rejoin: bool) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "ensemble.midi.jack_reader", self.client, self.port,
                   "--watch", str(self.watch)]
        if self.connect_to is not None:
            command += ["--connect", self.connect_to]
        if self._port_read is not None and self.connect_to is not None:  # gone, or after a crash
            command += ["--previous", self._port_read]
        if rejoin:
            command.append("--rejoin")
        if self.timing:
            command.append("--timing")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH")]))
        # A session of its own: a Ctrl-C at the performer's terminal is the performance's to take.
        return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, env=env, start_new_session=True)

    def _run(self) -> None:
        reader, starting = self._reader_process, True
        while True:
            ending = self._read(reader, starting)
            code = reader.wait()
            if self._stop.is_set():
                return
            if starting:
                if ending == "unstarted":
                    self._started.put(f"error the JACK MIDI reader ended at once ({_how(code)})")
                if ending in ("unstarted", "error"):
                    return
            self._crashed = ending in ("crash", "stuck")
            if ending == "shutdown":
                self.report(f"lost the JACK server '{self.server}'; waiting for it")
            elif ending == "stuck":
                self.report("JACK stopped running the reader's client; starting a new one")
            elif self._crashed:
                self._say_once(f"the JACK MIDI reader stopped ({_how(code)}); starting it again")
            # A restart finding no server yet, or ending before it said a word: tried again later.
            next_reader = self._respawn(wait_for_server=not self._crashed)
            if next_reader is None:
                return
            reader, starting = next_reader, False

    def _respawn(self, wait_for_server: bool) -> subprocess.Popen[bytes] | None:
        """A new reader, once a server runs (if it went); None when the input is closed first."""
        socket = jack_server.request_socket()
        while not self._stop.wait(self.watch if wait_for_server else 0):
            if wait_for_server and jack_server.running_server(socket) is None:
                continue
            with self._lock:
                if self._stop.is_set():
                    return None
                self._reader_process = self._spawn(rejoin=True)
                return self._reader_process
        return None

    def _read(self, reader: subprocess.Popen[bytes], starting: bool) -> str:
        """Takes the reader's lines until it ends; how it ended: `shutdown` (its server went),
        `error` (it could not start), `unstarted` (it ended without a word), `stuck` (JACK no
        longer ran its client) or `crash`."""
        assert reader.stdout is not None
        ending = "unstarted"
        for raw in reader.stdout:
            kind, _, rest = raw.decode("ascii", "replace").rstrip("\n").partition(" ")
            if kind == "m":
                self._message(rest)
            elif kind in ("ready", "waiting", "error"):
                ending = "error" if kind == "error" else "crash"  # until it says it ends otherwise
                self._began(kind, rest, starting)
            elif kind == "went":
                self.report(f"port {rest} went away; waiting for it")
            elif kind == "back":
                self._port_read = rest
                self.report(f"port {rest} is back, reconnected")
            elif kind == "lost":
                self.report(f"{rest} messages lost: they were read too late")
            elif kind == "shutdown":
                ending = "shutdown"
            elif kind == "stuck":
                ending = "stuck"
        return ending

    def _began(self, kind: str, rest: str, starting: bool) -> None:
        if kind == "ready":
            self._port_read = rest
        if starting:
            self._started.put(f"{kind} {rest}")
            return
        if kind == "error":
            return
        back = "reading again" if self._crashed else f"back on the JACK server '{self.server}'"
        if kind == "waiting":
            self.report(f"{back}; waiting for port '{self.connect_to}'")
        elif self.connect_to is None:
            self.report(back)
        else:
            self.report(f"{back}, reading port {rest}")
        self._last_failure = None

    def _message(self, rest: str) -> None:
        seconds, _, data = rest.partition(" ")
        try:
            message, when = list(bytes.fromhex(data)), float(seconds)
        except ValueError:
            self._say_once(f"the reader wrote a line that is not a message ('{rest[:40]}')")
            return
        try:
            self.handle(message, when)
        except Exception as error:  # nothing a device sends may end the input: said once, dropped
            self._say_once(f"a message was dropped ({type(error).__name__}: {error})")

    def _say_once(self, failure: str) -> None:
        """Reports a failure unless it is the one reported last (it may recur at every message)."""
        if failure != self._last_failure:
            self._last_failure = failure
            self.report(failure)


def _let_go(reader: subprocess.Popen[bytes]) -> None:
    """Closes the reader's stdin: it ends on its own."""
    if reader.stdin is not None:
        with contextlib.suppress(OSError):
            reader.stdin.close()


def _how(code: int) -> str:
    return f"signal {-code}" if code < 0 else f"exit code {code}"

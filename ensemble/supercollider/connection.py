"""A connection to a SuperCollider server that watches its health and comes back by itself.

UDP has no connection to lose, so the server is asked for `/status` twice a second: no
answer for a while means it is gone; an answer after that means it is back, and the
handshake (`/notify`, the SynthDefs, our group) is made again. Knows nothing of notes.

Whatever arrives is untrusted. The socket is bound to the one interface that reaches the
server and connected to the server's address, so the kernel drops datagrams from anyone else;
what the server's address sends that cannot be read is counted and dropped, never fatal, and
text in a reply is shown only through `printable`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Sequence

from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from ensemble.safe_text import printable

PROBE_INTERVAL = 0.5  # seconds between /status probes
SILENCE_LIMIT = 1.6  # seconds without an answer before the server counts as gone
GROUP = 4242  # our own group: everything we start lives here, so stopping frees it all
MALFORMED_REPORT_EVERY = 10.0  # seconds: at most one line this often about unreadable packets


def message(address: str, *args: int | float | str | bytes) -> bytes:
    builder = OscMessageBuilder(address=address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build().dgram


def parse(datagram: bytes) -> list[OscMessage]:
    """The messages in a datagram, unwrapping bundles (scsynth answers with plain messages)."""
    if OscBundle.dgram_is_bundle(datagram):
        found = []
        for content in OscBundle(datagram):
            found += [content] if isinstance(content, OscMessage) else parse(content.dgram)
        return found
    return [OscMessage(datagram)]


def connected_socket(host: str, port: int) -> socket.socket:
    """A UDP socket that sends to, and hears only, `host:port`; raises OSError if it cannot reach it.

    Bound to our address on the interface the route to the server takes (127.0.0.1 for a
    local server), never to every interface; connect() makes the kernel drop other senders.
    """
    family, kind, protocol, _, server = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
    with socket.socket(family, kind, protocol) as probe:
        probe.connect(server)  # UDP: nothing is sent, the kernel only picks the route
        local = probe.getsockname()
    sock = socket.socket(family, kind, protocol)
    try:
        sock.bind((local[0], 0, *local[2:]))
        sock.connect(server)
    except OSError:
        sock.close()
        raise
    return sock


class ServerConnection:
    """Sends to one scsynth and keeps track of whether it is there.

    `on_ready` runs (on the connection's thread) every time the handshake completes;
    `report` gets one-line news (lost, back, packets dropped). `malformed` counts the packets
    from the server's address that could not be read.
    """

    def __init__(self, host: str, port: int, synthdefs: Sequence[bytes],
                 report: Callable[[str], None], on_ready: Callable[[], None] = lambda: None) -> None:
        self.address = (host, port)
        self.synthdefs = list(synthdefs)
        self.report = report
        self.on_ready = on_ready
        self.ready = threading.Event()
        self.client_id = 0
        self.malformed = 0  # written by the receiving thread only
        self._malformed_reported = 0
        self._malformed_reported_at = -MALFORMED_REPORT_EVERY  # the first is told at once
        # Made by the watching thread, tried at every probe until it works: a name may not resolve yet.
        self._socket: socket.socket | None = None
        self._server: tuple[object, ...] = ()  # the server's address as the socket reports senders
        self._unreachable_told = False
        self._stop = threading.Event()
        self._last_answer = 0.0
        self._handshake_started = 0.0  # when the last handshake began; 0 when none is under way
        self._defs_loaded = 0
        self._ever_ready = False
        self._listeners: list[Callable[[OscMessage], None]] = []
        self._threads = [threading.Thread(target=self._receive, name="sc-receive", daemon=True),
                         threading.Thread(target=self._watch, name="sc-watch", daemon=True)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=1.0)
        if self._socket is not None:
            self._socket.close()
        self._report_malformed(at_once=True)

    def listen(self, listener: Callable[[OscMessage], None]) -> None:
        """Also hand every message from the server to `listener` (on the receiving thread)."""
        self._listeners.append(listener)

    def send(self, datagram: bytes) -> bool:
        """Send if the server is there; False (and nothing sent) if it is not."""
        if not self.ready.is_set():
            return False
        return self._send(datagram)

    def _send(self, datagram: bytes) -> bool:
        sock = self._socket
        if sock is None:
            return False
        try:
            sock.send(datagram)
        except OSError:  # e.g. a refused port reported on a later send
            return False
        return True

    # -- threads ----------------------------------------------------------------------------

    def _open_socket(self) -> None:
        try:
            sock = connected_socket(*self.address)
        except OSError as error:  # an unknown name, no route: tried again at the next probe
            if not self._unreachable_told:
                self.report(f"cannot reach {self._where()} ({error}); retrying")
                self._unreachable_told = True
            return
        sock.settimeout(0.1)
        self._server = sock.getpeername()
        self._socket = sock

    def _watch(self) -> None:
        while not self._stop.is_set():
            if self._socket is None:
                self._open_socket()
            self._report_malformed()
            self._send(message("/status"))
            silent_for = time.monotonic() - self._last_answer
            if self.ready.is_set() and silent_for > SILENCE_LIMIT:
                self.ready.clear()
                self.report(f"lost the server at {self._where()}; the others play on, retrying")
            self._stop.wait(PROBE_INTERVAL)

    def _receive(self) -> None:
        while not self._stop.is_set():
            sock = self._socket
            if sock is None:
                self._stop.wait(0.05)
                continue
            try:
                datagram, sender = sock.recvfrom(65536)
            except TimeoutError:
                continue
            except OSError:  # ICMP "port unreachable" while the server is down
                time.sleep(0.05)
                continue
            if sender == self._server:  # anything else came in before connect() took effect
                self._take(datagram)

    def _take(self, datagram: bytes) -> None:
        """Handle one datagram from the server's address; one that cannot be read is counted."""
        try:
            replies = parse(datagram)
            for reply in replies:
                self._handle(reply)
        except Exception:  # not OSC, bad UTF-8, arguments of the wrong type: never fatal
            self.malformed += 1

    def _report_malformed(self, at_once: bool = False) -> None:
        """One line for the packets dropped since the last one, at most every so often."""
        count, now = self.malformed, time.monotonic()
        if count == self._malformed_reported:
            return
        if not at_once and now - self._malformed_reported_at < MALFORMED_REPORT_EVERY:
            return
        new = count - self._malformed_reported
        self.report(f"dropped {new} unreadable packet{'s' if new > 1 else ''} from the server's address "
                    f"{self._where()} ({count} in all); playing on")
        self._malformed_reported, self._malformed_reported_at = count, now

    def _handle(self, reply: OscMessage) -> None:
        self._last_answer = time.monotonic()
        params = reply.params
        if reply.address == "/status.reply" and not self.ready.is_set() and self._may_handshake():
            self._handshake()
        elif reply.address == "/done" and params and params[0] == "/notify":
            self.client_id = int(params[1]) if len(params) > 1 else 0
        elif reply.address == "/done" and params and params[0] == "/d_recv":
            self._defs_loaded += 1
            if self._defs_loaded == len(self.synthdefs):
                self._become_ready()
        elif reply.address == "/fail":
            self.report(f"server says: {printable(' '.join(str(p) for p in params))}")
            if params and params[0] in ("/s_new", "/g_new") and self.ready.is_set():
                self.ready.clear()  # a server restarted within the silence limit lost our defs
                self._handshake()
        for listener in self._listeners:
            listener(reply)

    def _may_handshake(self) -> bool:
        """No handshake under way, or the last one lost a packet and timed out."""
        return time.monotonic() - self._handshake_started > 2 * SILENCE_LIMIT

    def _handshake(self) -> None:
        self._handshake_started = time.monotonic()
        self._defs_loaded = 0
        self._send(message("/notify", 1))
        for synthdef in self.synthdefs:
            self._send(message("/d_recv", synthdef))
        if not self.synthdefs:
            self._become_ready()

    def _become_ready(self) -> None:
        self._send(message("/g_new", GROUP, 0, 0))  # at the head of the root node
        self._handshake_started = 0.0
        self.on_ready()
        self.ready.set()
        self.report(f"{'back on' if self._ever_ready else 'connected to'} the server at {self._where()}")
        self._ever_ready = True

    def _where(self) -> str:
        return f"{self.address[0]}:{self.address[1]}"

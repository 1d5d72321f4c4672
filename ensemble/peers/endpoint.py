"""One UDP socket for talking with the peers: shares and pings go out from it, and a thread of
its own takes what comes in, so that the network never waits on the music or the music on it.

It sends from the address it listens on, so that a peer knows us by our listed address. What
arrives is decoded (wire.py), checked against the book (book.py) and then acted on: a ping is
answered, a share handed to `on_share`. Nothing that arrives can end the thread: a bad datagram
is counted in the book, a failing handler is said once.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable

from ensemble.errors import UserError
from ensemble.messages import Talks
from ensemble.peers.book import PeerBook, answer
from ensemble.peers.names import Address
from ensemble.peers.wire import (
    MAX_DATAGRAM,
    MAX_SEQ,
    Message,
    Ping,
    Share,
    SharedMelody,
    WireError,
    decode,
    encode,
)

RECEIVE_TIMEOUT = 0.2  # seconds the receiving thread waits before looking whether to stop
JOIN_TIMEOUT = 2.0

ShareHandler = Callable[[Share], None]


class PeerEndpoint(Talks):
    """Listens on `listen` as `me`; talks with the peers listed in `book`."""

    name = "peers"

    def __init__(self, me: str, listen: Address, book: PeerBook, key: bytes | None,
                 on_share: ShareHandler, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.me, self.book, self.key = me, book, key
        self.on_share, self.clock = on_share, clock
        # Counting on from the wall clock (centiseconds): a laptop that restarts goes on above its
        # last run's numbers, so its peers (which refuse any number not above the last) hear it
        # again at once. Good for 248 days between wraps, and 100 messages a second on average.
        self._sequence = itertools.count(int(time.time() * 100))
        self._last_failure: str | None = None
        # what went out, by message (share, ping, pong): for `peers` and the benchmark
        self.datagrams_sent: Counter[str] = Counter()
        self.bytes_sent: Counter[str] = Counter()  # OSC datagrams, without IP and UDP headers
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self._socket.bind(listen)
        except OSError as error:
            self._socket.close()
            raise UserError(f"peers: cannot listen on {listen[0]}:{listen[1]} ({error.strerror})") from None
        self._socket.settimeout(RECEIVE_TIMEOUT)
        self.address: Address = self._socket.getsockname()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, name="peers-receiver", daemon=True)
        self._thread.start()

    def share(self, beat: float, melodies: tuple[SharedMelody, ...]) -> None:
        """Sends our agents' melodies for the phrase starting at `beat` to every listed peer."""
        self._send_all(Share(self.me, self._next_seq(), beat, melodies))

    def ping(self) -> None:
        self._send_all(Ping(self.me, self._next_seq(), self.clock()))

    def _next_seq(self) -> int:
        return next(self._sequence) % (MAX_SEQ + 1)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(JOIN_TIMEOUT)
        self._socket.close()

    # -- out --------------------------------------------------------------------------------------

    def _send_all(self, message: Message) -> None:
        datagram = encode(message, self.key)
        for address in self.book.addresses():
            self._send(datagram, address, type(message).__name__.lower())

    def _send(self, datagram: bytes, address: Address, kind: str) -> None:
        self.datagrams_sent[kind] += 1
        self.bytes_sent[kind] += len(datagram)
        try:
            self._socket.sendto(datagram, address)
        except OSError as error:  # no route, a host gone: the others still hear us
            self._say_once(f"cannot reach {address[0]}:{address[1]} ({error.strerror})")

    # -- in ---------------------------------------------------------------------------------------

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                datagram, source = self._socket.recvfrom(MAX_DATAGRAM + 1)
            except TimeoutError:
                continue
            except OSError:  # the socket closed under us, or an ICMP error came back: go on
                if self._stop.is_set():
                    return
                continue
            self._take(datagram, (source[0], source[1]))

    def _take(self, datagram: bytes, source: Address) -> None:
        try:
            message = decode(datagram, self.key)
        except WireError as error:
            self.book.refuse(source, error.kind)
            return
        if not self.book.take(source, message, self.clock()):
            return
        if isinstance(message, Ping):
            self._send(encode(answer(message, self.me), self.key), source, "pong")
        elif isinstance(message, Share):
            try:
                self.on_share(message)
            except Exception as error:  # a peer's melody may not end the receiver: said once
                self._say_once(f"a share from {message.sender} was dropped ({type(error).__name__}: {error})")

    def _say_once(self, failure: str) -> None:
        if failure != self._last_failure:
            self._last_failure = failure
            self.report(failure)

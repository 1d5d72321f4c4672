"""A UDP relay that stands in for a bad network between two ends, A and B (no netem here).

A sends to the relay's socket `listen_a` and B to `listen_b`; what arrives on `listen_a` goes on
to B from `listen_b`, and what arrives on `listen_b` goes on to A from `listen_a`: each end sees
the relay's socket as its peer's address. Each datagram is dropped with probability `loss`, else
delivered after `delay` plus a uniform jitter in [0, `jitter`], so later ones can overtake it.
Every direction draws from a generator of its own seeded from `seed`, so the fate of the n-th
datagram of a direction does not depend on how the two directions interleave.

Run inside a laptop (stdlib only, so any Python runs it):

    python lossy_relay.py --a 10.77.0.3:9000 --b 10.77.0.4:9000 \
        --listen-a 10.77.0.2:7001 --listen-b 10.77.0.2:7002 --loss 0.1 --delay 0.02 --jitter 0.01

It prints one JSON line once listening ({"event": "ready", "listen_a": "H:P", "listen_b": "H:P"},
with the real ports when 0 was asked) and, on SIGTERM or SIGINT, one summary line
({"event": "summary", "a_to_b": COUNTS, "b_to_a": COUNTS}) and exits 0. COUNTS holds forwarded,
dropped, reordered (delivered after a datagram that reached the relay later) and pending
(still held back when stopped, never sent).
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import json
import queue
import random
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from support.laptops import Laptop

Address = tuple[str, int]
SCRIPT = Path(__file__).resolve()
LARGEST_DATAGRAM = 65535


def parse_address(text: str) -> Address:
    host, separator, port = text.rpartition(":")
    if not separator or not host or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


def show(address: Address) -> str:
    return f"{address[0]}:{address[1]}"


@dataclass
class Counts:
    forwarded: int = 0
    dropped: int = 0
    reordered: int = 0
    pending: int = 0


class _Direction:
    """One way through the relay: datagrams in on `inbound`, out of `outbound` to `to`."""

    def __init__(self, name: str, inbound: socket.socket, outbound: socket.socket, to: Address,
                 seed: int) -> None:
        self.name = name
        self.inbound = inbound
        self.outbound = outbound
        self.to = to
        self.random = random.Random(f"{seed}:{name}")
        self.counts = Counts()
        self.arrivals = 0  # how many reached the relay, numbering them in arrival order
        self.latest_delivered = -1  # the highest arrival number sent on so far


class LossyRelay:
    """Binds both sockets on construction (ports known at once); `run()` relays until `stop()`."""

    def __init__(self, a: Address, b: Address, listen_a: Address, listen_b: Address, *,
                 loss: float = 0.1, delay: float = 0.02, jitter: float = 0.01, seed: int = 0) -> None:
        if not 0.0 <= loss <= 1.0 or delay < 0.0 or jitter < 0.0:
            raise ValueError("loss must lie in [0, 1]; delay and jitter must not be negative")
        self.loss, self.delay, self.jitter = loss, delay, jitter
        self.socket_a = self._bound(listen_a)
        self.socket_b = self._bound(listen_b)
        self.listen_a: Address = self.socket_a.getsockname()[:2]
        self.listen_b: Address = self.socket_b.getsockname()[:2]
        self.a_to_b = _Direction("a_to_b", self.socket_a, self.socket_b, b, seed)
        self.b_to_a = _Direction("b_to_a", self.socket_b, self.socket_a, a, seed)
        self._waker, self._wake = socket.socketpair()
        self._waker.setblocking(False)
        self._stopping = False
        # (due time, arrival number, direction name, datagram): the next one due comes out first
        self._held: list[tuple[float, int, str, bytes]] = []

    @staticmethod
    def _bound(address: Address) -> socket.socket:
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.bind(address)
        sock.setblocking(False)
        return sock

    def stop(self) -> None:
        """Ends `run()` soon; safe from another thread or a signal handler."""
        self._stopping = True
        with contextlib.suppress(OSError):  # already woken and closed
            self._wake.send(b"x")

    def run(self) -> dict[str, Any]:
        """Relays until `stop()`; closes the sockets and returns the summary."""
        directions = {self.a_to_b.name: self.a_to_b, self.b_to_a.name: self.b_to_a}
        with selectors.DefaultSelector() as selector:
            selector.register(self.socket_a, selectors.EVENT_READ, self.a_to_b)
            selector.register(self.socket_b, selectors.EVENT_READ, self.b_to_a)
            selector.register(self._waker, selectors.EVENT_READ, None)
            while not self._stopping:
                timeout = max(0.0, self._held[0][0] - time.monotonic()) if self._held else None
                for key, _ in selector.select(timeout):
                    if key.data is not None:
                        self._take(key.data)
                self._deliver_due(directions)
        for direction in directions.values():
            direction.counts.pending = sum(1 for held in self._held if held[2] == direction.name)
        for sock in (self.socket_a, self.socket_b, self._waker, self._wake):
            sock.close()
        return self.summary()

    def summary(self) -> dict[str, Any]:
        return {"event": "summary", "a_to_b": asdict(self.a_to_b.counts),
                "b_to_a": asdict(self.b_to_a.counts)}

    def _take(self, direction: _Direction) -> None:
        """Reads every datagram waiting on `direction`'s socket and decides its fate."""
        while True:
            try:
                datagram = direction.inbound.recv(LARGEST_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                continue  # an ICMP error reported on the socket: a network shrugs it off
            number = direction.arrivals
            direction.arrivals += 1
            if direction.random.random() < self.loss:
                direction.counts.dropped += 1
                continue
            due = time.monotonic() + self.delay + direction.random.uniform(0.0, self.jitter)
            heapq.heappush(self._held, (due, number, direction.name, datagram))

    def _deliver_due(self, directions: dict[str, _Direction]) -> None:
        now = time.monotonic()
        while self._held and self._held[0][0] <= now:
            _, number, name, datagram = heapq.heappop(self._held)
            direction = directions[name]
            try:
                direction.outbound.sendto(datagram, direction.to)
            except OSError:
                direction.counts.dropped += 1  # the far end's network refused it: lost on the way
                continue
            direction.counts.forwarded += 1
            if number < direction.latest_delivered:
                direction.counts.reordered += 1
            direction.latest_delivered = max(direction.latest_delivered, number)


def command(a: Address, b: Address, listen_a: Address, listen_b: Address, *, loss: float = 0.1,
            delay: float = 0.02, jitter: float = 0.01, seed: int = 0) -> list[str]:
    """The command line that runs a relay (for `Laptop.popen`)."""
    return [sys.executable, str(SCRIPT), "--a", show(a), "--b", show(b),
            "--listen-a", show(listen_a), "--listen-b", show(listen_b),
            "--loss", repr(loss), "--delay", repr(delay), "--jitter", repr(jitter), "--seed", str(seed)]


class RelayProcess:
    """A relay running in `laptop` as a process of its own: `start()` returns once it listens."""

    def __init__(self, laptop: Laptop, a: Address, b: Address, listen_a: Address, listen_b: Address,
                 **options: Any) -> None:
        self._argv = command(a, b, listen_a, listen_b, **options)
        self._laptop = laptop
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.process: subprocess.Popen[str] | None = None
        self.listen_a: Address = listen_a
        self.listen_b: Address = listen_b

    def start(self, timeout: float = 10.0) -> RelayProcess:
        self.process = self._laptop.popen(self._argv, stdout=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, args=(self.process,), daemon=True).start()
        ready = self._next_line(timeout, "the relay's ready line")
        self.listen_a = parse_address(ready["listen_a"])
        self.listen_b = parse_address(ready["listen_b"])
        return self

    def stop(self, timeout: float = 10.0) -> dict[str, Any]:
        """SIGTERMs the relay and returns its summary (exit code 0 checked)."""
        assert self.process is not None, "the relay was not started"
        self.process.send_signal(signal.SIGTERM)
        summary = self._next_line(timeout, "the relay's summary")
        code = self.process.wait(timeout)
        if code != 0:
            raise AssertionError(f"the relay exited with code {code}")
        return summary

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _next_line(self, timeout: float, what: str) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"{what}: nothing within {timeout:g} s") from None
        if line is None:
            assert self.process is not None
            raise AssertionError(f"{what}: the relay ended first (exit code {self.process.wait(10)})")
        parsed: dict[str, Any] = json.loads(line)
        return parsed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--a", type=parse_address, required=True, help="end A's HOST:PORT")
    parser.add_argument("--b", type=parse_address, required=True, help="end B's HOST:PORT")
    parser.add_argument("--listen-a", type=parse_address, required=True,
                        help="the relay's HOST:PORT that A sends to (B's stand-in)")
    parser.add_argument("--listen-b", type=parse_address, required=True,
                        help="the relay's HOST:PORT that B sends to (A's stand-in)")
    parser.add_argument("--loss", type=float, default=0.1, help="probability of dropping a datagram")
    parser.add_argument("--delay", type=float, default=0.02, help="seconds every datagram is held")
    parser.add_argument("--jitter", type=float, default=0.01, help="up to this many seconds more")
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args(argv)
    try:
        relay = LossyRelay(options.a, options.b, options.listen_a, options.listen_b, loss=options.loss,
                           delay=options.delay, jitter=options.jitter, seed=options.seed)
    except (ValueError, OSError) as error:
        parser.exit(2, f"lossy_relay: {error}\n")
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: relay.stop())
    print(json.dumps({"event": "ready", "listen_a": show(relay.listen_a),
                      "listen_b": show(relay.listen_b)}), flush=True)
    print(json.dumps(relay.run()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

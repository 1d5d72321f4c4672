"""The test laptops (network namespaces on a private bridge) and the lossy relay between them."""

import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from support.laptops import PREFIX, SUBNET, Laptops
from support.lossy_relay import RelayProcess
from support.optional import required_module

from ensemble.sync.link import INSTALL_HINT

LINK_GROUP, LINK_PORT = "224.76.78.75", 20808
ROOT = Path(__file__).resolve().parents[2]
WAIT = 5.0  # seconds any one datagram may take to arrive


def root_namespace(*args: str) -> str:
    return subprocess.run(["ip", "-o", *args], capture_output=True, text=True, check=True, timeout=30).stdout


def namespaces() -> list[str]:
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True, timeout=30)
    return [line.split()[0] for line in listed.stdout.splitlines() if line.strip()]


def link_names(listing: str) -> set[str]:
    return {line.split(":")[1].strip().split("@")[0] for line in listing.splitlines()}


def test_a_datagram_crosses_the_bridge_and_the_machine_network_is_untouched() -> None:
    links_before = link_names(root_namespace("link"))
    with Laptops(["alice", "bob", "carol"]) as lan:
        assert [laptop.address for laptop in lan] == [f"{SUBNET}.2", f"{SUBNET}.3", f"{SUBNET}.4"]
        receiver = lan["bob"].popen(
            [sys.executable, "-c",
             "import socket, sys\n"
             "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
             "s.bind((sys.argv[1], 0)); s.settimeout(20)\n"
             "print(s.getsockname()[1], flush=True)\n"
             "data, source = s.recvfrom(100)\n"
             "print(data.decode(), source[0], flush=True)\n",
             lan["bob"].address],
            stdout=subprocess.PIPE, text=True)
        assert receiver.stdout is not None
        port = int(receiver.stdout.readline())
        sender = lan["alice"].socket()
        sender.bind((lan["alice"].address, 0))
        sender.sendto(b"hello bob", (lan["bob"].address, port))
        out, _ = receiver.communicate(timeout=20)
        assert out.split() == ["hello", "bob", lan["alice"].address]
        sender.close()

        inside = lan["carol"].run(["ip", "-o", "-4", "address"], capture_output=True, text=True)
        assert f"{SUBNET}.4/24" in inside.stdout
        assert SUBNET not in root_namespace("address")
        assert link_names(root_namespace("link")) == links_before  # no bridge, no veth here
        for name in lan.namespaces:
            assert name.startswith(PREFIX) and name in namespaces()


def multicast_receiver(lan: Laptops, name: str) -> socket.socket:
    sock = lan[name].socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("", LINK_PORT))
    membership = struct.pack("4s4s", socket.inet_aton(LINK_GROUP), socket.inet_aton("0.0.0.0"))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
    sock.settimeout(WAIT)
    return sock


def test_a_multicast_datagram_reaches_every_other_laptop() -> None:
    with Laptops(["alice", "bob", "carol"]) as lan:
        receivers = {name: multicast_receiver(lan, name) for name in ("bob", "carol")}
        sender = lan["alice"].socket()
        sender.sendto(b"link says hi", (LINK_GROUP, LINK_PORT))
        for sock in receivers.values():
            data, source = sock.recvfrom(100)
            assert (data, source[0]) == (b"link says hi", lan["alice"].address)
            sock.close()
        sender.close()


def test_link_peers_on_different_laptops_find_each_other() -> None:
    required_module("aalink", INSTALL_HINT)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    with Laptops(["alice", "bob"]) as lan:
        peers = [laptop.popen([sys.executable, str(ROOT / "tests" / "support" / "link_peer.py"),
                               "--name", laptop.name, "--tempo", "120", "--duration", "0.5"],
                              stdout=subprocess.PIPE, text=True, env=env) for laptop in lan]
        outputs = [peer.communicate(timeout=30)[0] for peer in peers]
    for laptop, output in zip(lan, outputs, strict=True):
        events = [json.loads(line)["event"] for line in output.splitlines()]
        assert "found" in events, f"{laptop.name} found no Link peer: {output}"


class Arrivals:
    """Numbered datagrams received on one socket, with when each arrived (test's own clock)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.numbers: list[int] = []
        self.times: list[float] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._receive, daemon=True)
        self.thread.start()

    def _receive(self) -> None:
        self.sock.settimeout(0.1)
        while not self.done.is_set():
            try:
                data = self.sock.recv(100)
            except TimeoutError:
                continue
            self.times.append(time.monotonic())
            self.numbers.append(int(data))

    def stop(self) -> None:
        self.done.set()
        self.thread.join(WAIT)
        assert not self.thread.is_alive()

    def out_of_order(self) -> int:
        """Datagrams that arrived after one sent later than them."""
        highest, late = -1, 0
        for number in self.numbers:
            late += number < highest
            highest = max(highest, number)
        return late


def wait_until_quiet(*arrivals: Arrivals, quiet: float = 0.5, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if all(not a.times or time.monotonic() - a.times[-1] > quiet for a in arrivals):
            return
        time.sleep(0.05)
    raise AssertionError(f"datagrams still arriving after {limit:g} s")


def bound(lan: Laptops, name: str) -> socket.socket:
    sock = lan[name].socket()
    sock.bind((lan[name].address, 0))
    return sock


def exchange_through_relay(lan: Laptops, count: int, seed: int,
                           both_ways: bool = True) -> tuple[dict, Arrivals, Arrivals, list[float]]:
    """`count` numbered datagrams from alice to bob (and bob to alice) through a relay in alice."""
    alice, bob = bound(lan, "alice"), bound(lan, "bob")
    address = lan["alice"].address
    relay = RelayProcess(lan["alice"], alice.getsockname(), bob.getsockname(), (address, 0), (address, 0),
                         loss=0.1, delay=0.02, jitter=0.01, seed=seed).start()
    at_bob, at_alice = Arrivals(bob), Arrivals(alice)
    sent_at = []
    for number in range(count):  # paced, so no socket buffer overflows before the relay decides
        sent_at.append(time.monotonic())
        alice.sendto(str(number).encode(), relay.listen_a)
        if both_ways:
            bob.sendto(str(number).encode(), relay.listen_b)
        time.sleep(0.001)
    wait_until_quiet(at_bob, at_alice)
    summary = relay.stop()
    at_bob.stop()
    at_alice.stop()
    alice.close()
    bob.close()
    return summary, at_bob, at_alice, sent_at


def test_the_relay_loses_delays_and_reorders_and_says_so() -> None:
    count = 500
    with Laptops(["alice", "bob"]) as lan:
        summary, at_bob, at_alice, sent_at = exchange_through_relay(lan, count, seed=15)
    for direction, arrivals in (("a_to_b", at_bob), ("b_to_a", at_alice)):
        counts = summary[direction]
        received = arrivals.numbers
        assert len(set(received)) == len(received) and set(received) <= set(range(count))
        assert 25 <= count - len(received) <= 80, f"{direction}: {count - len(received)} lost of {count}"
        assert counts["forwarded"] == len(received)
        assert counts["dropped"] == count - len(received)
        assert counts["pending"] == 0
        assert counts["reordered"] == arrivals.out_of_order() > 0
        delays = [arrived - sent_at[number] for number, arrived in zip(received, arrivals.times, strict=True)]
        assert min(delays) >= 0.02


def test_the_same_seed_loses_the_same_datagrams() -> None:
    with Laptops(["alice", "bob"]) as lan:
        first = exchange_through_relay(lan, 100, seed=7, both_ways=False)[1]
        second = exchange_through_relay(lan, 100, seed=7, both_ways=False)[1]
    assert 0 < len(first.numbers) < 100
    assert sorted(first.numbers) == sorted(second.numbers)


def test_the_namespaces_and_processes_are_gone_after_the_block_even_on_error() -> None:
    dead = subprocess.Popen(["true"])
    dead.wait(10)
    stale = f"{PREFIX}{dead.pid}-abcdef-alice"  # as a killed test run would leave it
    subprocess.run(["ip", "netns", "add", stale], check=True, timeout=30)
    made: list[str] = []
    with pytest.raises(RuntimeError, match="the test failed"), Laptops(["alice", "bob"]) as lan:
        assert stale not in namespaces()
        made = lan.namespaces
        sleeper = lan["bob"].popen(["sh", "-c", "sleep 60 & sleep 60"])
        raise RuntimeError("the test failed")
    assert made and not set(made) & set(namespaces())
    assert sleeper.returncode is not None

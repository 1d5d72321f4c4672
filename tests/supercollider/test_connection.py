"""The connection to a server, against a UDP socket of the test's own standing in for scsynth.

The test's socket is the server's address, so whatever it sends is what a misbehaving (or
forged-upon) server would send; a second socket is a stranger on the same machine.
"""

import os
import socket
import time

import pytest
from pythonosc.osc_message import OscMessage
from support.services import HOST, message

from ensemble.supercollider import connection
from ensemble.supercollider.connection import ServerConnection, connected_socket
from ensemble.supercollider.nodes import NodeIds

GARBAGE = [
    b"\xff\xfe\xfd\x00,\x00\x00\x00\x13\x37",  # 10 bytes: an address that is not UTF-8
    b"0123456789",  # not OSC at all
    b"#bundle\x00\x00",  # a bundle cut short
    b"/n_end\x00\x00,s\x00\x00node\x00\x00\x00\x00",  # well-formed, but its node id is text
]


class FakeServer:
    """A UDP socket on 127.0.0.1 that the connection takes for its scsynth."""

    def __init__(self):
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind((HOST, 0))
        self.socket.settimeout(5.0)
        self.port = self.socket.getsockname()[1]
        self.client = None

    def first_probe(self):
        """Waits for the connection's first `/status`; its sender is where replies go."""
        datagram, self.client = self.socket.recvfrom(65536)
        assert OscMessage(datagram).address == "/status"

    def send(self, datagram):
        self.socket.sendto(datagram, self.client)


@pytest.fixture
def server():
    fake = FakeServer()
    yield fake
    fake.socket.close()


@pytest.fixture
def lines():
    return []


@pytest.fixture
def connected(server, lines):
    conn = ServerConnection(HOST, server.port, [], lines.append)
    conn.listen(NodeIds().observe)  # as the output does: reads node ids out of replies
    conn.start()
    server.first_probe()
    yield conn
    conn.close()


def wait_until(condition, what, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.01)


def test_the_socket_hears_the_server_only_and_listens_on_loopback(connected, server):
    sock = connected._socket
    assert sock.getsockname()[0] == "127.0.0.1"
    assert sock.getpeername() == (HOST, server.port)
    assert server.client == sock.getsockname()


def test_garbage_from_the_servers_own_address_is_counted_and_dropped(connected, server, lines):
    for datagram in GARBAGE:
        server.send(datagram)
    server.send(message("/status.reply", 1, 0, 0, 0, 0, 0.1, 0.1, 44100.0, 44100.0))
    wait_until(connected.ready.is_set, "the handshake after the garbage")  # replies are read in order
    assert connected.malformed == len(GARBAGE)
    assert all(thread.is_alive() for thread in connected._threads)
    wait_until(lambda: any("unreadable" in line for line in lines), "the line about them")
    assert [line for line in lines if "unreadable" in line] == [
        f"dropped {len(GARBAGE)} unreadable packets from the server's address 127.0.0.1:{server.port} "
        f"({len(GARBAGE)} in all); playing on"]


def test_unreadable_packets_are_told_in_one_line_at_most_every_so_often(server, lines, monkeypatch):
    monkeypatch.setattr(connection, "MALFORMED_REPORT_EVERY", 3600.0)
    conn = ServerConnection(HOST, server.port, [], lines.append)
    conn.start()
    try:
        server.first_probe()
        server.send(GARBAGE[0])
        wait_until(lambda: any("unreadable" in line for line in lines), "the first line")
        for _ in range(200):
            server.send(GARBAGE[1])
        wait_until(lambda: conn.malformed == 201, "all of them counted")
    finally:
        conn.close()  # tells what was dropped since the last line
    where = f"the server's address 127.0.0.1:{server.port}"
    assert [line for line in lines if "unreadable" in line] == [
        f"dropped 1 unreadable packet from {where} (1 in all); playing on",
        f"dropped 200 unreadable packets from {where} (201 in all); playing on"]


def test_a_stranger_is_not_heard_even_with_a_well_formed_reply(connected, server, lines):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger:
        stranger.bind((HOST, 0))
        target = connected._socket.getsockname()
        stranger.sendto(message("/status.reply", 1, 0, 0, 0, 0, 0.1, 0.1, 44100.0, 44100.0), target)
        stranger.sendto(message("/fail", "/stranger", "forged"), target)
        stranger.sendto(GARBAGE[0], target)
    server.send(message("/fail", "/marker", "from the server"))  # read after all of the above, if heard
    wait_until(lambda: any("/marker" in line for line in lines), "the server's own /fail")
    assert not connected.ready.is_set()
    assert connected.malformed == 0
    assert not any("stranger" in line for line in lines)


def test_a_fail_message_is_shown_without_control_characters_and_cut_short(connected, server, lines):
    text = "\x1b[2J\x1b]0;owned\x07\r\n" + "x" * 500
    server.send(message("/fail", "/b_alloc", text))
    wait_until(lambda: any("server says" in line for line in lines), "the /fail line")
    said = next(line for line in lines if "server says" in line)
    assert said.startswith("server says: /b_alloc \\x1b[2J\\x1b]0;owned\\x07\\r\\n")
    assert said.isprintable() and len(said) < 200 and "characters)" in said


def test_a_server_elsewhere_gets_a_socket_on_the_interface_that_reaches_it():
    # TEST-NET-2: never a real host. Without a route it cannot be reached; with one, the socket
    # must be bound to the address the route leaves from, never to every interface.
    try:
        sock = connected_socket("198.51.100.1", 57110)
    except OSError as error:
        if os.environ.get("CI"):  # CI machines have a default route: there, this is tested for real
            raise
        pytest.skip(f"no route out of this machine ({error})")
    with sock:
        assert sock.getsockname()[0] not in ("0.0.0.0", "127.0.0.1")
        assert sock.getpeername() == ("198.51.100.1", 57110)


def test_a_name_that_does_not_resolve_is_one_line_and_no_socket(lines):
    conn = ServerConnection("no-such-host.invalid", 57110, [], lines.append)
    conn.start()
    try:
        wait_until(lambda: lines, "the line about it")
        assert conn._socket is None and not conn.send(message("/status"))
    finally:
        conn.close()
    assert len(lines) == 1 and lines[0].startswith("cannot reach no-such-host.invalid:57110 (")

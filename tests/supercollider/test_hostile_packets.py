"""Hostile datagrams against `ensemble play --to sc`, through the real CLI and a real scsynth.

Two kinds: a stranger on the machine sending to ensemble's reply port (the kernel must drop
those), and the server's own address sending garbage and a forged `/fail` (ensemble must count
and drop what it cannot read, and show text without its escape sequences). Either way the music
goes on: our synths keep starting on the server, and the performance ends as it should.
"""

import socket
import subprocess
import sys
import threading
import time

from support.services import HOST, UdpRelay, message, udp_sockets_of
from support.waiting import join

from ensemble.supercollider.connection import GROUP

SCRIPT = "seed C4 E4 G4 C5\nspawn 2\nwait 10\n"  # a phrase a second: ten seconds or so
GARBAGE = b"\xff\xfe\xfd\x00,\x00\x00\x00\x13\x37"  # 10 bytes, not OSC (its address is not UTF-8)
ESCAPES = "\x1b[2J\x1b]0;owned\x07\x1b[31m"  # clear the screen, retitle the terminal, turn red
FORGED_FAIL = message("/fail", "/b_alloc", ESCAPES + "you have been " + "owned " * 100)
STRANGER_FAIL = message("/fail", "/stranger", ESCAPES + "from a stranger")


class SynthWatch:
    """A second client of the server, told of every node that starts (`/n_go`), and when."""

    def __init__(self, scsynth):
        self.client = scsynth.client()
        self.client.send("/notify", 1)
        self.client.wait_for("/done", "/notify")
        self.started = []  # (monotonic time, node id) of each synth of ours
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                reply = self.client.receive(timeout=0.2)
            except (TimeoutError, OSError):
                continue
            if reply.address == "/n_go" and reply.params[1] == GROUP:  # node, parent group, ...
                self.started.append((time.monotonic(), reply.params[0]))

    def since(self, moment):
        return [node for at, node in list(self.started) if at > moment]

    def close(self):
        self._stop.set()
        join(self.thread, 5, "the synth watch")
        self.client.close()


def _reply_socket(process, server_port, timeout=10.0):
    """ensemble's UDP socket connected to `server_port` (local address, and every UDP socket it
    holds), found through /proc."""
    deadline = time.monotonic() + timeout
    every_socket = []
    while time.monotonic() < deadline and process.poll() is None:
        every_socket = udp_sockets_of(process.pid)
        for local, remote in every_socket:
            if remote == (HOST, server_port):
                return local, every_socket
        time.sleep(0.05)
    raise AssertionError(f"no UDP socket of ensemble is connected to port {server_port}: {every_socket}")


def test_hostile_datagrams_neither_silence_the_server_nor_reach_the_terminal(scsynth, tmp_path):
    (tmp_path / "hostile.ens").write_text(SCRIPT)
    watch = SynthWatch(scsynth)
    with UdpRelay(scsynth.port) as relay:  # ensemble talks to scsynth through the relay
        process = subprocess.Popen(
            [sys.executable, "-m", "ensemble", "play", "hostile.ens", "--to", f"sc:{HOST}:{relay.port}"],
            cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = [], []
        readers = [threading.Thread(target=lambda s=s, into=into: into.extend(s), daemon=True)
                   for s, into in ((process.stdout, out), (process.stderr, err))]
        for reader in readers:
            reader.start()
        try:
            deadline = time.monotonic() + 30
            while not any(b"connected to the server" in line for line in err):
                assert time.monotonic() < deadline and process.poll() is None, f"never connected: {err}"
                time.sleep(0.05)
            time.sleep(1.0)  # a phrase or so, sounding
            local, every_socket = _reply_socket(process, relay.port)
            assert local[0] == HOST  # the reply port is on loopback, like the server
            assert all(mine[0] != "0.0.0.0" for mine, _ in every_socket)  # nothing on every interface

            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger:  # another process, say
                stranger.bind((HOST, 0))
                stranger.sendto(GARBAGE, local)
                stranger.sendto(STRANGER_FAIL, local)
            relay.inject(GARBAGE)  # and the same, as if from the server itself
            relay.inject(FORGED_FAIL)
            hostile_at = time.monotonic()

            process.wait(timeout=60)
        finally:
            process.kill()
            process.wait(timeout=10)
            for reader in readers:
                join(reader, 10, "a reader of ensemble's output")
            watch.close()
    stderr = b"".join(err)
    text = stderr.decode()
    assert process.returncode == 0, text
    # Still playing well past the moment a dead receiver would have been noticed (1.6 s of
    # silence): a phrase's synths (two agents, four notes) and more.
    assert len(watch.since(hostile_at + 3.0)) >= 8, watch.started
    assert b"Traceback" not in stderr and b"\x1b" not in stderr and b"\x07" not in stderr
    assert b"\x1b" not in b"".join(out)
    assert "lost the server" not in text  # never silenced, not even for a moment
    assert "dropped 1 unreadable packet from the server's address" in text
    said = [line for line in text.splitlines() if "server says" in line]
    assert len(said) == 1 and said[0].startswith("sc: server says: /b_alloc \\x1b[2J\\x1b]0;owned\\x07")
    assert len(said[0]) < 200 and "characters)" in said[0]  # cut short, saying how long it was
    assert "stranger" not in text  # the kernel never handed the stranger's datagrams over

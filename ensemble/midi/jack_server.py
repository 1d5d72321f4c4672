"""The JACK server our MIDI clients joined: is it still running, asked the way libjack asks.

libjack tells a running server from a gone one by connecting to the server's request socket
(its "server check"); jackd takes such a connection and lets it go without a word. That costs
some 40 µs and no JACK client, where opening a client costs 20-60 ms with the GIL held
(python-rtmidi keeps it), and a client of a server that is gone keeps answering as if nothing
had happened (its port listing is the dead server's). Each server makes its socket file anew,
so the file's inode tells a restarted server from the one our clients joined: those clients are
dead even though a server answers again.

Knowing matters beyond saying so. RtMidi (5.0, in python-rtmidi) writes each message into a
16 KB ring that JACK empties every period, and when the ring is full it waits for room,
spinning with the GIL held: with the server gone nothing empties it, and some 2,300 messages
later the whole process would freeze. So messages may go out only a bounded number past the
last time the server was seen running (`may_send`).
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping
from pathlib import Path

# Messages sent between two sightings of the server: each takes at most 7 bytes of RtMidi's
# 16 KB ring (a 4-byte length and up to 3 bytes of MIDI), so this many fill less than half of it.
SEND_BUDGET = 1000


def server_name(env: Mapping[str, str] = os.environ) -> str:
    return env.get("JACK_DEFAULT_SERVER", "default")


def request_socket(env: Mapping[str, str] = os.environ) -> Path:
    """Where a JACK server (jack2, as python-rtmidi's libjack is) takes requests: libjack's path."""
    directory = "/dev/shm" if sys.platform.startswith("linux") else "/tmp"
    name = server_name(env).replace("/", "_").replace("\\", "_")
    owner = "" if "JACK_PROMISCUOUS_SERVER" in env else f"_{os.getuid()}"
    return Path(directory) / f"jack_{name}{owner}_0"


def running_server(path: Path) -> int | None:
    """Which server runs behind `path` (its socket's inode), or None when none answers.

    Never blocks: a server too busy to take a connection at once counts as not answering.
    """
    try:
        before = path.stat().st_ino
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.setblocking(False)
            probe.connect(str(path))
        after = path.stat().st_ino
    except OSError:  # no socket (stopped), refused (killed: the file outlives it), or busy
        return None
    return before if before == after else None  # restarted meanwhile: not one server


class ServerWatch:
    """The server our clients joined, watched from any thread; see the module's docstring."""

    def __init__(self, env: Mapping[str, str] = os.environ) -> None:
        self.name = server_name(env)
        self.path = request_socket(env)
        self._joined: int | None = None
        self._unconfirmed = 0  # messages sent since the server was last seen

    def join(self) -> bool:
        """Called before our clients open: remembers the server they will join, if one runs.

        Taken before, so that a server restarting while they open is one they did not join.
        """
        self._joined = running_server(self.path)
        self._unconfirmed = 0
        return self._joined is not None

    def still_joined(self) -> bool:
        """Whether the server our clients joined still runs; if so, renews the sending budget."""
        there = self._joined is not None and running_server(self.path) == self._joined
        if there:
            self._unconfirmed = 0  # a race with `may_send` loses one count either way: the budget has room
        return there

    def may_send(self) -> bool:
        """Whether one more message may go out (see the module's docstring); looks again when the
        budget is spent, so a busy but running server is asked about once a budget."""
        self._unconfirmed += 1
        return self._unconfirmed <= SEND_BUDGET or self.still_joined()

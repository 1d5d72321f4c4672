"""The JACK MIDI reader: a child process that reads one JACK MIDI input and writes what arrives
to its stdout, one line a message, for jack_input.py. Run as
`python -m ensemble.midi.jack_reader CLIENT PORT [--connect WANTED] ...`.

A process of its own, so that whatever happens in libjack's threads (a crash, a wait) ends no
performance, and JACK's realtime callback never waits for the performance's GIL. It ends when
its stdin closes (the performance let go of it) or its server goes.

Lines it writes (ASCII):
- `ready PORT`: reading PORT (the one connected to, or our own `client:port`);
- `waiting`: on a server it joined again, the port to read is not there yet;
- `error TEXT`: it could not start (`error no-server` when no JACK server runs); then it ends;
- `m SECONDS HEX`: a message and its time (time.monotonic() seconds: its cycle's start, by
  cycle_clock.py, and its frame in the cycle);
- `went PORT` and `back PORT`: the port read went away, and is back and connected again;
- `lost N`: N messages dropped, the pipe being full (the reader's reader was stalled);
- `shutdown`: its JACK server went; then it ends;
- `stuck`: JACK has not run its client for STUCK seconds; then it ends (and a new one starts).
"""

from __future__ import annotations

import argparse
import errno
import os
import select
import sys
import time
from collections.abc import Sequence

from ensemble.errors import UserError
from ensemble.midi import ports
from ensemble.midi.jack_server import ServerWatch
from ensemble.midi.libjack import JackError, MidiInputClient

SYSEX, MTC_QUARTER_FRAME, CLOCK, ACTIVE_SENSING = 0xF0, 0xF1, 0xF8, 0xFE
STATUS_RETRIES = 200  # a status line waits this many milliseconds for room in the pipe
STUCK = 1.0  # seconds without a process cycle, the server running: our client is not woken


class CannotStart(Exception):
    """The port asked for is not there (or not just one): said, and the reader ends."""


class Reader:
    """Writes each message arriving on `client` to stdout; watches the port it reads."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.timing = args.timing
        self.lost = 0
        self.client: MidiInputClient | None = None

    # -- in JACK's process thread ----------------------------------------------------------------

    def message(self, seconds: float, data: bytes) -> None:
        if not data or data[0] in (SYSEX, ACTIVE_SENSING):
            return
        if not self.timing and data[0] in (CLOCK, MTC_QUARTER_FRAME):
            return
        line = b"m %.6f %s\n" % (seconds, data.hex().encode())
        try:
            os.write(1, line)
        except BlockingIOError:
            self.lost += 1
        except OSError:
            os._exit(0)  # nobody reads any more: the performance has gone

    # -- in the main thread ----------------------------------------------------------------------

    def run(self) -> int:
        server = ServerWatch()
        server.join()
        try:
            self.client = MidiInputClient(self.args.client, self.args.port, self.message, self.shutdown)
        except JackError:
            say("error no-server")
            return 2
        try:
            connected = self.first_port()
        except CannotStart as error:
            say(f"error {error}")
            self.client.close()
            return 2
        cycles, idle = -1, 0
        while not stdin_closed(self.args.watch):
            if not server.still_joined():
                self.shutdown()
            # JACK no longer wakes our client (libjack was seen to keep a client that had left's
            # wake-up for a new client given its number): a new reader gets a new client.
            idle = idle + 1 if self.client.cycles == cycles else 0
            cycles = self.client.cycles
            if idle * self.args.watch >= STUCK:
                say("stuck")
                os._exit(3)
            if self.lost:
                lost, self.lost = self.lost, 0
                say(f"lost {lost}")
            if self.args.connect is not None:
                connected = self.follow_port(connected)
        self.client.close()
        return 0

    def shutdown(self) -> None:
        """The server has gone: its client is left as it is (closing it may wait or crash)."""
        say("shutdown")
        os._exit(0)

    def first_port(self) -> str | None:
        """Connects the port asked for: its name, or None (our own port, or waiting for it)."""
        assert self.client is not None
        if self.args.connect is None:
            say(f"ready {self.client.port_name}")
            return None
        try:
            found = self.port_to_read(self.client.midi_outputs())
        except UserError as error:
            if self.args.rejoin:
                say("waiting")
                return None
            raise CannotStart(str(error).removeprefix("midi: ")) from None
        if not self.client.connect_from(found):
            if self.args.rejoin:
                say("waiting")
                return None
            raise CannotStart(f"port {found} went away")
        say(f"ready {found}")
        return found

    def follow_port(self, connected: str | None) -> str | None:
        """The port read, after a look: gone (None, said once), or back and connected again."""
        assert self.client is not None
        names = self.client.midi_outputs()
        if connected is not None:
            if connected not in names:
                say(f"went {connected}")
                self.args.previous = connected
                return None
            return connected
        try:
            wanted = self.port_to_read(names)
        except UserError:
            return None
        if not self.client.connect_from(wanted):
            return None  # gone again meanwhile: next time
        say(f"back {wanted}")
        return wanted

    def port_to_read(self, names: list[str]) -> str:
        """The port read before, if it is among `names`; else the one asked for (UserError if
        none or several match)."""
        previous = self.args.previous
        return previous if previous in names else ports.resolve(self.args.connect, names)


def say(line: str) -> None:
    """Writes a status line, waiting a little for room if the pipe is full (unlike messages)."""
    data = line.encode() + b"\n"
    for _ in range(STATUS_RETRIES):
        try:
            os.write(1, data)
            return
        except BlockingIOError:
            time.sleep(0.001)
        except OSError as error:
            if error.errno == errno.EPIPE:
                os._exit(0)
            raise


def stdin_closed(timeout: float) -> bool:
    """Waits up to `timeout` seconds; whether stdin closed meanwhile (the performance let go)."""
    readable, _, _ = select.select([0], [], [], timeout)
    return bool(readable) and os.read(0, 4096) == b""


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ensemble.midi.jack_reader")
    parser.add_argument("client")
    parser.add_argument("port")
    parser.add_argument("--connect", help="a part of an output port's name, to read that port")
    parser.add_argument("--previous", help="the port read before, preferred when it is there")
    parser.add_argument("--rejoin", action="store_true", help="a missing port is waited for, not an error")
    parser.add_argument("--timing", action="store_true", help="pass on MIDI clock and MTC")
    parser.add_argument("--watch", type=float, default=0.5, help="seconds between looks at the port")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    os.set_blocking(1, False)  # JACK's thread never waits on the pipe: a message is dropped instead
    return Reader(args).run()


if __name__ == "__main__":
    sys.exit(main())

"""Real JACK and scsynth servers for tests, started and stopped here; no mocks.

Each Jack gets its own server name (JACK_DEFAULT_SERVER) so tests never touch a JACK the
machine is already running, and JACK_NO_START_SERVER stops clients from starting one by
themselves. Everything listens on 127.0.0.1 only. Server output goes to a log file, never to
a pipe: a reader that stops early would kill scsynth with SIGPIPE (FACTS.md).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

HOST = "127.0.0.1"
APT_INSTALL = "apt-get install --no-install-recommends supercollider-server jackd2"


class MissingBinary(RuntimeError):
    """A server program is not installed; the message names the Debian package."""


class StartupError(RuntimeError):
    """A server did not come up; the message ends with its log's tail."""


def require(binary: str, package: str) -> str:
    path = shutil.which(binary)
    if path is None:
        raise MissingBinary(f"`{binary}` not found: install the Debian package {package} ({APT_INSTALL})")
    return path


def missing_binaries() -> list[str]:
    """Each missing program the servers need, with its Debian package; empty when all are there."""
    needed = (("jackd", "jackd2"), ("jack_lsp", "jackd2"), ("scsynth", "supercollider-server"))
    return [f"{binary} ({package})" for binary, package in needed if shutil.which(binary) is None]


def log_tail(path: Path, chars: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except FileNotFoundError:
        return "(no log)"


def _stop_process(process: subprocess.Popen[bytes], timeout: float = 5.0) -> bool:
    """Terminates the process; False if it had to be killed."""
    if process.poll() is not None:
        return True
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return False
    return True


def _clear_stale_jack_state() -> None:
    """Forget servers that died without cleaning up, when no jackd is running at all.

    A jackd that is killed leaves its entry in JACK's shared-memory registry; after a handful of
    those no server starts ("Too many servers already active"). With no jackd alive, every
    entry is stale.
    """
    running = subprocess.run(["pgrep", "-x", "jackd"], capture_output=True, check=False).returncode == 0
    if not running:
        for path in Path("/dev/shm").glob("jack*"):
            if path.is_dir():  # jack_db-UID: a server's metadata database
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


class Jack:
    """`jackd --no-realtime -d dummy` under a unique server name, ready when `jack_lsp` answers."""

    def __init__(
        self, rate: int = 44100, period: int = 256, timeout: float = 10.0, directory: Path | None = None
    ) -> None:
        self.rate, self.period, self.timeout = rate, period, timeout
        self.name = f"ensemble-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.own_dir = directory is None  # a temp dir of our own is removed on exit
        self.dir = directory or Path(tempfile.mkdtemp(prefix="ensemble-jack-"))
        self.log = self.dir / "jackd.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        """The environment a JACK client needs to find this server and no other."""
        return {**os.environ, "JACK_DEFAULT_SERVER": self.name, "JACK_NO_START_SERVER": "1"}

    def start(self) -> Jack:
        jackd = require("jackd", "jackd2")
        _clear_stale_jack_state()
        command = [jackd, "--no-realtime", "-d", "dummy", "-r", str(self.rate), "-p", str(self.period)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise StartupError(f"jackd exited with {self.process.returncode}:\n{log_tail(self.log)}")
            if self.clients() is not None:
                return self
            time.sleep(0.05)
        self.stop()
        raise StartupError(f"jackd did not answer jack_lsp in {self.timeout} s:\n{log_tail(self.log)}")

    def clients(self) -> set[str] | None:
        """The names of the clients with ports on this server; None if it does not answer."""
        probe = subprocess.run(
            [require("jack_lsp", "jackd2")], env=self.env, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if probe.returncode != 0:
            return None
        return {line.split(":", 1)[0] for line in probe.stdout.splitlines() if ":" in line}

    # What this jackd (not realtime) logs when it misses a cycle: its driver woke up late, or a
    # client had not finished. Every client is then told of an underrun, and MIDI may be lost.
    _DRIVER_LATE = re.compile(r"JackTimedDriver::Process XRun = (\d+) usec")
    _CLIENT_LATE = "was not finished"

    def log_position(self) -> int:
        """Where the log ends now: read what came after it with the methods below."""
        return self.log.stat().st_size

    def xruns_since(self, position: int) -> int:
        """Cycles the server logged as missed since `position` (over-counted: one line per client)."""
        text = self._log_since(position)
        return len(self._DRIVER_LATE.findall(text)) + text.count(self._CLIENT_LATE)

    def seconds_lost_since(self, position: int, client: str) -> float:
        """How far `client`'s sample clock may have slipped against the wall clock since `position`:
        the driver's logged lateness, plus a period for each cycle the client missed."""
        text = self._log_since(position)
        driver_late = sum(int(usec) for usec in self._DRIVER_LATE.findall(text)) / 1e6
        return driver_late + text.count(f"client = {client} {self._CLIENT_LATE}") * self.period / self.rate

    def _log_since(self, position: int) -> str:
        return self.log.read_bytes()[position:].decode(errors="replace")

    def stop(self) -> None:
        """SIGTERM; a jackd that hangs is killed and its shared memory files removed."""
        if self.process is not None and not _stop_process(self.process):
            for path in Path("/dev/shm").glob(f"jack*{self.name}*"):
                path.unlink(missing_ok=True)
        self.process = None

    def __enter__(self) -> Jack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if self.own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)


class OscClient:
    """A UDP socket on 127.0.0.1 that sends OSC to one server and reads its replies."""

    def __init__(self, port: int, timeout: float = 5.0) -> None:
        self.address = (HOST, port)
        self.timeout = timeout
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind((HOST, 0))

    def send(self, address: str, *args: int | float | str | bytes) -> None:
        self.send_raw(message(address, *args))

    def send_raw(self, datagram: bytes) -> None:
        self.socket.sendto(datagram, self.address)

    def receive(self, timeout: float | None = None) -> OscMessage:
        self.socket.settimeout(self.timeout if timeout is None else timeout)
        data, _ = self.socket.recvfrom(65536)
        return OscMessage(data)

    def wait_for(self, address: str, *first_args: object, timeout: float | None = None) -> OscMessage:
        """The next reply to `address` whose arguments start with `first_args`.

        Raises AssertionError on a `/fail` (scsynth's error reply) and TimeoutError after
        `timeout` seconds; other replies on the way are dropped.
        """
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while (left := deadline - time.monotonic()) > 0:
            try:
                reply = self.receive(left)
            except TimeoutError:
                break
            if reply.address == "/fail":
                raise AssertionError(f"scsynth replied /fail {reply.params}")
            if reply.address == address and tuple(reply.params[: len(first_args)]) == first_args:
                return reply
        raise TimeoutError(f"no {address} {list(first_args)} from {self.address}")

    def close(self) -> None:
        self.socket.close()

    def __enter__(self) -> OscClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def message(address: str, *args: int | float | str | bytes) -> bytes:
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build().dgram


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class Scsynth:
    """`scsynth` on a free UDP port of 127.0.0.1, with 2 outputs on the given Jack.

    `stop()` kills it (a crash, as far as a client can tell); `start()` brings it back on the
    same port. The synthdef search path is an empty directory, so no user SynthDefs load.
    """

    def __init__(
        self, jack: Jack, port: int | None = None, timeout: float = 10.0, directory: Path | None = None
    ) -> None:
        self.jack = jack
        self.port = port or free_udp_port()
        self.timeout = timeout
        self.own_dir = directory is None  # a temp dir of our own is removed on exit
        self.dir = directory or Path(tempfile.mkdtemp(prefix="ensemble-scsynth-"))
        self.log = self.dir / "scsynth.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.jack_clients: set[str] = set()  # the JACK client this scsynth registered

    def start(self) -> Scsynth:
        if self.running:
            return self
        scsynth = require("scsynth", "supercollider-server")
        (self.dir / "synthdefs").mkdir(exist_ok=True)
        env = {**self.jack.env, "SC_SYNTHDEF_PATH": str(self.dir / "synthdefs")}
        command = [scsynth, "-u", str(self.port), "-B", HOST, "-R", "0", "-i", "0", "-o", "2"]
        before = self.jack.clients() or set()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        with OscClient(self.port) as client:
            deadline = time.monotonic() + self.timeout
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    code = self.process.returncode
                    self.stop()  # removes what the dead server left in /dev/shm
                    raise StartupError(f"scsynth exited with {code}:\n{log_tail(self.log)}")
                try:
                    client.send("/status")
                    client.wait_for("/status.reply", timeout=0.1)
                    self.jack_clients = (self.jack.clients() or set()) - before
                    return self
                except (TimeoutError, ConnectionRefusedError):
                    continue  # not listening yet (a refused datagram comes back as an ICMP error)
        self.stop()
        raise StartupError(f"scsynth did not answer /status in {self.timeout} s:\n{log_tail(self.log)}")

    def stop(self) -> None:
        """SIGKILL, as in a crash; returns once JACK has dropped the dead client.

        Waiting matters: a jackd told to stop while it still holds a just-killed client hangs.
        Also removes the shared memory file a killed scsynth leaves behind.
        """
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline and self.jack_clients & (self.jack.clients() or set()):
                time.sleep(0.02)
        self.process = None
        Path(f"/dev/shm/SuperColliderServer_{self.port}").unlink(missing_ok=True)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def client(self) -> OscClient:
        return OscClient(self.port)

    def __enter__(self) -> Scsynth:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if self.own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)


class ServerRecording:
    """Records a running scsynth's two output channels to a WAV, from a known Unix time.

    Uses ensemble's own `ensemble_recorder` SynthDef (DiskOut of the output bus) at the tail
    of the root group, so it runs after every voice. `started_at` is when sample 0 was taken.
    """

    BUFFER, NODE = 900, 900_000

    def __init__(self, scsynth: Scsynth, path: Path, recorder_synthdef: bytes) -> None:
        self.path = path
        self.client = scsynth.client()
        self.recorder_synthdef = recorder_synthdef
        self.started_at = 0.0
        self.stopped_at = 0.0  # when the recorder was told to stop (it stops within a block or two)

    def __enter__(self) -> ServerRecording:
        from pythonosc.osc_bundle_builder import OscBundleBuilder

        client = self.client
        client.send("/d_recv", self.recorder_synthdef)
        client.wait_for("/done", "/d_recv")
        client.send("/b_alloc", self.BUFFER, 65536, 2)
        client.wait_for("/done", "/b_alloc", self.BUFFER)
        client.send("/b_write", self.BUFFER, str(self.path), "wav", "int16", 0, 0, 1)
        client.wait_for("/done", "/b_write", self.BUFFER)
        self.started_at = time.time() + 0.1
        start = OscMessageBuilder("/s_new")
        for arg in ("ensemble_recorder", self.NODE, 1, 0, "bufnum", self.BUFFER):  # 1: tail of group 0
            start.add_arg(arg)
        bundle = OscBundleBuilder(self.started_at)
        bundle.add_content(start.build())
        client.send_raw(bundle.build().dgram)
        time.sleep(0.15)
        return self

    def __exit__(self, *exc: object) -> None:
        client = self.client
        self.stopped_at = time.time()
        client.send("/n_free", self.NODE)
        client.send("/sync", 7)
        client.wait_for("/synced", 7)
        client.send("/b_close", self.BUFFER)
        client.wait_for("/done", "/b_close", self.BUFFER)
        client.close()

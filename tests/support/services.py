"""Real JACK and scsynth servers for tests, started and stopped here; no mocks.

Each Jack gets its own server name (`-n`, and JACK_DEFAULT_SERVER for its clients) so tests
never touch a JACK the machine is already running, and JACK_NO_START_SERVER stops clients from
starting one by themselves; the JACK state a test server leaves in /dev/shm is cleared by that
name only (see `_forget_server`). Everything listens on 127.0.0.1 only. Server output goes to
a log file, never to a pipe: a reader that stops early would kill scsynth with SIGPIPE (FACTS.md).
"""

from __future__ import annotations

import ctypes
import mmap
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


def require_servers() -> None:
    """Real servers (jackd, scsynth) or nothing: in CI a missing binary fails the test run,
    elsewhere the test is skipped with how to install them. Call from a fixture or a test."""
    from support.optional import unavailable

    missing = missing_binaries()
    if not missing:
        return
    unavailable(f"servers not installed: {', '.join(missing)}; install with `{APT_INSTALL}`")


def log_tail(path: Path, chars: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except FileNotFoundError:
        return "(no log)"


def _exited(pid: int, timeout: float) -> bool:
    """Whether our child `pid` has exited within `timeout` s, WITHOUT reaping it.

    Until it is reaped the zombie keeps its pid, so no other process can take that pid while
    JACK state is matched to the server by it. A child that was already reaped counts as exited.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT | os.WNOHANG) is not None:
                return True
        except ChildProcessError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def _end(process: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """SIGTERM, then SIGKILL after `timeout` s; returns once the process has exited, still unreaped."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        if process.returncode is not None or _exited(process.pid, 0):
            return
        os.kill(process.pid, signum)  # not Popen.send_signal: it may reap, freeing the pid
        if _exited(process.pid, timeout):
            return
    raise StartupError(f"process {process.pid} survived SIGKILL for {timeout} s")


# JACK's shared state in /dev/shm, as jack2 1.9.x lays it out (common/shm.c, shm.h):
# - jack-shm-registry, shared by every JACK server of the machine: a header with 8 server slots
#   (pid, "jack-UID:NAME:") and 256 segment entries (index, allocator pid, size, "/jack-UID-N").
#   A server that exits cleanly frees its slot; a killed one keeps it for good, because JACK only
#   reclaims a dead slot for a server of the same name and ours are unique: after 8 of those, no
#   server starts ("Too many servers already active"). Segments of dead allocators JACK frees
#   itself at the next server start.
# - jack_NAME_UID_N (the server's request socket) and jack_sem.UID_NAME_CLIENT (one per client
#   of server NAME), which a killed server leaves behind.
# We clear only slots, segments and files of servers these helpers started (by name and pid),
# and only once that server is dead. The registry is edited under JACK's own lock (the SysV
# semaphore every JACK process takes for it) and never deleted: a live server (jackd, jackdbus,
# another test session's) keeps its slot and segments. Other files (jack_db-UID, the sockets of
# clients, pipewire-jack's state) belong to every server or to none of ours: left alone.
SHM = Path("/dev/shm")
REGISTRY = SHM / "jack-shm-registry"
TEST_SERVER_PREFIX = "ensemble-test-"
_REGISTRY_LOCK_KEY = 0x282929  # JACK_SEMAPHORE_KEY
_MAGIC, _HEADER_LEN, _ENTRY_LEN, _SERVERS, _ENTRIES = 0x4A41434B, 2136, 268, 8, 256
_SLOTS_AT, _SLOT_LEN, _NAME_LEN = 24, 264, 257  # slot: int32 pid, char name[257], padding
_SEM_UNDO, _EAGAIN = 0x1000, 11


class _Sembuf(ctypes.Structure):
    _fields_ = [("sem_num", ctypes.c_ushort), ("sem_op", ctypes.c_short), ("sem_flg", ctypes.c_short)]


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


@contextmanager
def _locked_registry(timeout: float = 2.0) -> Iterator[mmap.mmap | None]:
    """JACK's registry, mapped and locked as JACK locks it; None if there is none or its layout
    is not the one above (then nothing is touched)."""
    libc = ctypes.CDLL(None, use_errno=True)
    semid = libc.semget(_REGISTRY_LOCK_KEY, 0, 0)
    if semid == -1 or not REGISTRY.exists():
        yield None  # no JACK process ever locked the registry: nothing of ours is in it
        return
    wait = _Timespec(int(timeout), int(timeout % 1 * 1e9))
    if libc.semtimedop(semid, ctypes.byref(_Sembuf(0, -1, _SEM_UNDO)), 1, ctypes.byref(wait)) == -1:
        error = ctypes.get_errno()
        reason = "held by another process" if error == _EAGAIN else os.strerror(error)
        raise StartupError(f"JACK's registry lock: {reason} (waited {timeout} s)")
    try:
        if REGISTRY.stat().st_size != _HEADER_LEN + _ENTRIES * _ENTRY_LEN:
            yield None
            return
        with REGISTRY.open("r+b") as file, mmap.mmap(file.fileno(), 0) as registry:
            yield registry if _layout_known(registry) else None
    finally:
        libc.semop(semid, ctypes.byref(_Sembuf(0, 1, _SEM_UNDO)), 1)


def _layout_known(registry: mmap.mmap) -> bool:
    magic, hdr_len, entry_len = struct.unpack_from("<I12xii", registry, 0)
    return (magic, hdr_len, entry_len) == (_MAGIC, _HEADER_LEN, _ENTRY_LEN)


def _c_string(registry: mmap.mmap, offset: int, size: int) -> str:
    return registry[offset : offset + size].split(b"\0", 1)[0].decode(errors="replace")


def _server_prefix(name: str) -> str:
    return f"jack-{os.getuid()}:{name}:"


def _registered_servers() -> list[tuple[str, int]]:
    """(name, pid) of each server slot in use, for this user."""
    with _locked_registry() as registry:
        if registry is None:
            return []
        slots = []
        for slot in range(_SERVERS):
            offset = _SLOTS_AT + slot * _SLOT_LEN
            (pid,) = struct.unpack_from("<i", registry, offset)
            prefix = _c_string(registry, offset + 4, _NAME_LEN)
            if pid and prefix.startswith(head := _server_prefix("")[:-1]):
                slots.append((prefix[len(head) : -1], pid))
        return slots


def pid_gone(pid: int) -> bool:
    """No running process has `pid` (a zombie has exited: its pid is taken, its JACK state stale)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def _forget_server(name: str, pid: int) -> None:
    """Clears the registry slot, segments and files a dead server `name` with `pid` left behind."""
    if not pid_gone(pid):
        return  # never touch a live server
    with _locked_registry() as registry:
        if registry is not None:
            _free_slot(registry, name, pid)
            _free_segments(registry, pid)
    uid, escaped = os.getuid(), re.escape(name)
    own = re.compile(rf"jack_{escaped}_{uid}_\d+|jack_sem\.{uid}_{escaped}_.+")
    for path in SHM.iterdir():
        if own.fullmatch(path.name):
            path.unlink(missing_ok=True)


def _free_slot(registry: mmap.mmap, name: str, pid: int) -> None:
    for slot in range(_SERVERS):
        offset = _SLOTS_AT + slot * _SLOT_LEN
        (slot_pid,) = struct.unpack_from("<i", registry, offset)
        if slot_pid == pid and _c_string(registry, offset + 4, _NAME_LEN) == _server_prefix(name):
            registry[offset : offset + _SLOT_LEN] = bytes(_SLOT_LEN)  # as jack_unregister_server


def _free_segments(registry: mmap.mmap, pid: int) -> None:
    """Removes the segments `pid` allocated and frees their entries, as jack_cleanup_shm does."""
    for entry in range(_ENTRIES):
        offset = _HEADER_LEN + entry * _ENTRY_LEN
        (allocator,) = struct.unpack_from("<i", registry, offset + 4)
        if allocator != pid:
            continue
        segment = _c_string(registry, offset + 12, _ENTRY_LEN - 12)
        if re.fullmatch(r"/jack-\d+-\d+", segment):
            (SHM / segment[1:]).unlink(missing_ok=True)
        registry[offset + 4 : offset + _ENTRY_LEN] = bytes(_ENTRY_LEN - 4)  # allocator, size, name


def forget_dead_test_servers() -> None:
    """Clears the state of test servers whose process died unstopped (a test run killed hard)."""
    for name, pid in _registered_servers():
        if name.startswith(TEST_SERVER_PREFIX):
            _forget_server(name, pid)


class Jack:
    """`jackd --no-realtime -d dummy` under a unique server name, ready when `jack_lsp` answers.

    `realtime`: jackd's own default mode instead (its process thread SCHED_FIFO), for what
    judges timing; needs the right to realtime scheduling (root here), else jackd warns and runs.
    """

    def __init__(
        self, rate: int = 44100, period: int = 256, timeout: float = 10.0, directory: Path | None = None,
        realtime: bool = False,
    ) -> None:
        self.rate, self.period, self.timeout, self.realtime = rate, period, timeout, realtime
        self.name = f"{TEST_SERVER_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.own_dir = directory is None  # a temp dir of our own is removed on exit
        self.dir = directory or Path(tempfile.mkdtemp(prefix="ensemble-jack-"))
        self.log = self.dir / "jackd.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._listing: list[Any] = []  # see wait_for_client

    @property
    def env(self) -> dict[str, str]:
        """The environment a JACK client needs to find this server and no other."""
        return {**os.environ, "JACK_DEFAULT_SERVER": self.name, "JACK_NO_START_SERVER": "1"}

    def start(self) -> Jack:
        jackd = require("jackd", "jackd2")
        forget_dead_test_servers()
        command = [jackd, "-n", self.name] + ([] if self.realtime else ["--no-realtime"])
        command += ["-d", "dummy", "-r", str(self.rate), "-p", str(self.period)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise StartupError(f"jackd exited with {self.process.returncode}:\n{log_tail(self.log)}")
            if self.clients() is not None:
                log = self.log.read_text(errors="replace")
                if self.realtime and "Cannot use real-time scheduling" in log:
                    print("warning: jackd could not get realtime scheduling", file=sys.stderr)
                return self
            time.sleep(0.05)
        self.stop()
        raise StartupError(f"jackd did not answer jack_lsp in {self.timeout} s:\n{log_tail(self.log)}")

    def clients(self) -> set[str] | None:
        """The names of the clients with ports on this server; None if it does not answer."""
        try:
            probe = subprocess.run(
                [require("jack_lsp", "jackd2")], env=self.env, stdin=subprocess.DEVNULL,
                capture_output=True, text=True, timeout=5.0, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return None  # a wedged server does not answer either
        if probe.returncode != 0:
            return None
        return {line.split(":", 1)[0] for line in probe.stdout.splitlines() if ":" in line}

    def wait_for_client(self, name: str, timeout: float = 20.0) -> None:
        """Until a client called `name` has MIDI ports on this server (a process we started is up).

        Asked through two JACK clients of ours kept open until the server stops, not `jack_lsp`:
        clients opened and closed again and again (a jack_lsp every 50 ms) while a process opened
        its own were seen to leave one of that process's clients never woken, for good (libjack
        gives a new client the number of one that just left before every process has heard that
        it left, and keeps the old client's wake-up for it)."""
        listers = self._listers()
        deadline = time.monotonic() + timeout
        while name not in {port.split(":", 1)[0] for lister in listers for port in lister.get_ports()}:
            if time.monotonic() > deadline:
                raise StartupError(f"no JACK client '{name}' after {timeout:g} s")
            time.sleep(0.05)

    def _listers(self) -> list[Any]:
        """A JACK MIDI input and output (rtmidi), which list the other side's ports."""
        if not self._listing:
            import rtmidi

            saved = {key: os.environ.get(key) for key in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER")}
            os.environ.update({key: self.env[key] for key in saved})
            try:
                self._listing = [rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="test-lister"),
                                 rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="test-lister")]
            finally:
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
        return self._listing

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
        """SIGTERM (SIGKILL if it hangs), then clears what the dead server left in /dev/shm."""
        process, self.process = self.process, None
        if process is None:
            return
        listing, self._listing = self._listing, []
        for lister in listing:
            if process.poll() is None:
                lister.delete()
            else:
                from ensemble.midi import ports

                ports.abandon(lister)  # its server has gone: closing it would crash
        _end(process)
        try:
            _forget_server(self.name, process.pid)
        finally:
            process.wait(timeout=5.0)  # reaped only now: until then its pid names only this server

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
            self.process.wait(timeout=5.0)
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


def udp_sockets_of(pid: int) -> list[tuple[tuple[str, int], tuple[str, int]]]:
    """(local, remote) address of each IPv4 UDP socket process `pid` holds, read from /proc.

    A socket's local address is what it listens on; its remote one is 0.0.0.0:0 unless connected.
    """
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    found = []
    for line in Path(f"/proc/{pid}/net/udp").read_text().splitlines()[1:]:
        fields = line.split()  # sl, local, remote, state, queues, timer, retransmits, uid, timeout, inode
        if fields[9] in inodes:
            found.append((_proc_address(fields[1]), _proc_address(fields[2])))
    return found


def _proc_address(text: str) -> tuple[str, int]:
    """`0100007F:DFA6` (the address as the kernel holds it in memory, the port) -> (`127.0.0.1`, port)."""
    address, port = text.split(":")
    return socket.inet_ntoa(struct.pack("=I", int(address, 16))), int(port, 16)


class UdpRelay:
    """A UDP relay on 127.0.0.1 between one client and a server, passing both ways.

    To the client the relay's port is the server's address, so `inject` sends a datagram the
    client must take as the server's own: a test's way of being a misbehaving server.
    """

    def __init__(self, server_port: int) -> None:
        import threading  # here, not at the top: these helpers were added after the file's imports

        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind((HOST, 0))
        self.port = self.front.getsockname()[1]
        self.back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.back.bind((HOST, 0))
        self.back.connect((HOST, server_port))
        self.client: tuple[str, int] | None = None  # learnt from the client's first datagram
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="udp-relay", daemon=True)

    def _run(self) -> None:
        import select  # as threading above

        while not self._stop.is_set():
            ready, _, _ = select.select([self.front, self.back], [], [], 0.1)
            for sock in ready:
                try:
                    datagram, sender = sock.recvfrom(65536)
                    if sock is self.front:
                        self.client = sender
                        self.back.send(datagram)
                    elif self.client is not None:
                        self.front.sendto(datagram, self.client)
                except OSError:
                    continue  # refused while the server is away: UDP loses it, as it would

    def inject(self, datagram: bytes) -> None:
        """Send `datagram` to the client from the relay's port, as if the server had sent it."""
        if self.client is None:
            raise AssertionError("the client has sent nothing through the relay yet")
        self.front.sendto(datagram, self.client)

    def __enter__(self) -> UdpRelay:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)
        self.front.close()
        self.back.close()

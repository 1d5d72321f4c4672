"""Several "laptops" on a private network, made for one test: never the machine's own network.

Each laptop is a network namespace with a veth pair to a Linux bridge; the bridge lives in a
"switch" namespace of its own, so nothing (address, bridge, packet) ever appears in the root
namespace. Laptop N (0-based) has the address 10.77.0.(N+2)/24 on `lan0`, loopback up, and a
multicast route on `lan0`, so that Ableton Link peers on different laptops find each other. The
bridge floods multicast (snooping off): without an IGMP querier a snooping bridge may stop
forwarding a group once it has seen reports for it.

    with Laptops(["alice", "bob"]) as lan:
        lan["bob"].popen([sys.executable, "-m", "ensemble", "play", ...])

Namespaces are named `ens-PID-RANDOM[-LAPTOP]`; those of test runs whose process is gone
(killed before they could clean up) are deleted when the next one starts.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn, TypeVar

from support.optional import unavailable
from support.services import pid_gone

T = TypeVar("T")
PREFIX = "ens-"
SUBNET = "10.77.0"
INTERFACE = "lan0"
BRIDGE = "br0"
MULTICAST = "224.0.0.0/4"
NAMESPACES = Path("/run/netns")  # where `ip netns add` mounts each namespace
_OURS = re.compile(rf"^{re.escape(PREFIX)}(\d+)-[0-9a-f]{{6}}(?:-|$)")
_LAPTOP_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_CLONE_NEWNET = 0x40000000
_END_GRACE = 3.0  # seconds a process has to end on SIGTERM before SIGKILL


class SetupError(RuntimeError):
    """An `ip` command failed; the message holds the command and what it printed."""


def _unavailable(reason: str) -> NoReturn:
    unavailable(f"the laptops (network namespaces): {reason}")


def _ip(*args: str) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise SetupError(f"`ip {' '.join(args)}` failed: {done.stderr.strip() or done.returncode}")
    return done.stdout


def _namespaces() -> list[str]:
    return [line.split()[0] for line in _ip("netns", "list").splitlines() if line.strip()]


def _kill_inside(namespace: str) -> None:
    """SIGKILLs whatever still runs in `namespace` (a straggler would keep it alive unseen)."""
    for _ in range(10):
        try:
            pids = [int(pid) for pid in _ip("netns", "pids", namespace).split()]
        except SetupError:
            return
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)


def _delete(namespace: str) -> None:
    _kill_inside(namespace)
    _ip("netns", "delete", namespace)


def remove_stale() -> list[str]:
    """Deletes the namespaces of earlier test runs whose process is no longer alive; their names."""
    stale = [name for name in _namespaces()
             if (match := _OURS.match(name)) and pid_gone(int(match.group(1)))]
    for name in stale:
        with contextlib.suppress(SetupError):
            _delete(name)
    return stale


class Laptop:
    """One laptop: its namespace, its address, and ways to run things inside it."""

    def __init__(self, name: str, namespace: str, address: str) -> None:
        self.name = name
        self.namespace = namespace
        self.address = address
        self.interface = INTERFACE
        self._processes: list[subprocess.Popen[Any]] = []

    def __repr__(self) -> str:
        return f"Laptop({self.name!r}, {self.address}, namespace {self.namespace})"

    def command(self, argv: Sequence[str]) -> list[str]:
        """`argv` as run inside this laptop."""
        return ["ip", "netns", "exec", self.namespace, *argv]

    def popen(self, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
        """Starts `argv` inside, in a session of its own (its process group is ended on exit
        of the Laptops); `kwargs` go to subprocess.Popen."""
        kwargs.setdefault("start_new_session", True)
        process: subprocess.Popen[Any] = subprocess.Popen(self.command(argv), **kwargs)
        self._processes.append(process)
        return process

    def run(self, argv: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[Any]:
        """Runs `argv` inside to its end (60 s at most unless `timeout` is given); `kwargs` go to
        subprocess.run."""
        kwargs.setdefault("timeout", 60)
        return subprocess.run(self.command(argv), **kwargs)

    def socket(self, family: int = socket.AF_INET, kind: int = socket.SOCK_DGRAM) -> socket.socket:
        """A socket of this laptop's network, usable from the test's own process."""
        return self.call(lambda: socket.socket(family, kind))

    def call(self, make: Callable[[], T]) -> T:
        """`make()` called in this laptop's network: a short-lived thread enters the namespace
        (setns) and calls it, so sockets it opens (and threads it starts) belong to the laptop;
        the test's own threads stay where they are. Its result, or its exception, is handed back."""
        made: list[T | BaseException] = []

        def inside() -> None:
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                descriptor = os.open(NAMESPACES / self.namespace, os.O_RDONLY)
                try:
                    if libc.setns(descriptor, _CLONE_NEWNET) != 0:
                        error = ctypes.get_errno()
                        raise OSError(error, f"setns into {self.namespace}: {os.strerror(error)}")
                finally:
                    os.close(descriptor)
                made.append(make())
            except BaseException as error:  # handed to the caller's thread
                made.append(error)

        thread = threading.Thread(target=inside, name=f"in {self.name}")
        thread.start()
        thread.join(10)
        if not made:
            raise TimeoutError(f"a call in {self.name} did not finish within 10 s")
        result = made[0]
        if isinstance(result, BaseException):
            raise result
        return result

    def _end_processes(self) -> None:
        """SIGTERM to each process group started here, SIGKILL after a grace; all reaped."""
        running = [process for process in self._processes if process.returncode is None]
        for process in running:  # unreaped, so its pid (and group id) is still ours
            self._signal(process, signal.SIGTERM)
        deadline = time.monotonic() + _END_GRACE
        for process in running:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._signal(process, signal.SIGKILL)
                process.wait(10)

    @staticmethod
    def _signal(process: subprocess.Popen[Any], signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            if os.getpgid(process.pid) == process.pid:  # its own group: end its children too
                os.killpg(process.pid, signum)
            else:
                os.kill(process.pid, signum)


class Laptops:
    """A context manager: laptops named `names` on one bridge, all gone on exit (even on error)."""

    def __init__(self, names: Sequence[str]) -> None:
        if len(set(names)) != len(names) or not names:
            raise ValueError(f"laptop names must be distinct and at least one: {list(names)}")
        if len(names) > 250:
            raise ValueError("at most 250 laptops fit 10.77.0.0/24")
        for name in names:
            if not _LAPTOP_NAME.match(name):
                raise ValueError(f"laptop name {name!r}: lower-case letters, digits and _ only")
        self.names = list(names)
        self.switch = f"{PREFIX}{os.getpid()}-{secrets.token_hex(3)}"
        self.laptops = {name: Laptop(name, f"{self.switch}-{name}", f"{SUBNET}.{index + 2}")
                        for index, name in enumerate(self.names)}
        self._made: list[str] = []

    def __getitem__(self, name: str) -> Laptop:
        return self.laptops[name]

    def __iter__(self) -> Iterator[Laptop]:
        return iter(self.laptops.values())

    def __len__(self) -> int:
        return len(self.laptops)

    @property
    def namespaces(self) -> list[str]:
        """The switch's namespace and each laptop's."""
        return [self.switch, *(laptop.namespace for laptop in self)]

    def __enter__(self) -> Laptops:
        if shutil.which("ip") is None:
            _unavailable("`ip` is missing: install iproute2 (apt-get install iproute2)")
        if os.geteuid() != 0:
            _unavailable("making network namespaces needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN)")
        try:
            remove_stale()
            self._build()
        except (SetupError, subprocess.TimeoutExpired) as error:
            self._remove()
            _unavailable(str(error))
        except BaseException:
            self._remove()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        failures = self._remove()
        if failures and error is None:
            raise SetupError("; ".join(failures))

    def _build(self) -> None:
        for namespace in self.namespaces:
            _ip("netns", "add", namespace)
            self._made.append(namespace)
        _ip("-n", self.switch, "link", "add", BRIDGE, "type", "bridge",
            "mcast_snooping", "0", "forward_delay", "0", "stp_state", "0")
        _ip("-n", self.switch, "link", "set", BRIDGE, "up")
        for index, laptop in enumerate(self):
            port = f"port{index}"
            # Both ends are made directly in their namespaces: neither passes through the root one.
            _ip("-n", self.switch, "link", "add", port, "type", "veth",
                "peer", "name", INTERFACE, "netns", laptop.namespace)
            _ip("-n", self.switch, "link", "set", port, "master", BRIDGE, "up")
            _ip("-n", laptop.namespace, "link", "set", "lo", "up")
            _ip("-n", laptop.namespace, "address", "add", f"{laptop.address}/24", "dev", INTERFACE)
            _ip("-n", laptop.namespace, "link", "set", INTERFACE, "up")
            _ip("-n", laptop.namespace, "route", "add", MULTICAST, "dev", INTERFACE)

    def _remove(self) -> list[str]:
        """Ends the processes started in the laptops and deletes every namespace made; what failed."""
        failures = []
        for laptop in self:
            try:
                laptop._end_processes()
            except Exception as error:  # go on: the namespaces must go whatever happens
                failures.append(f"ending processes in {laptop.name}: {error}")
        for namespace in reversed(self._made):
            try:
                _delete(namespace)
            except SetupError as error:
                failures.append(str(error))
        self._made.clear()
        return failures

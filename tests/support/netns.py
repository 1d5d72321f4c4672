"""A private network namespace for what multicasts (Ableton Link): never the machine's own.

`unshare -n` makes a namespace with only a loopback, down: it is brought up and given the
multicast route, so that Link's peers inside find each other and nothing leaves the machine.
"""

from __future__ import annotations

import shutil
import subprocess

from support.optional import unavailable

SETUP = "ip link set lo up && ip route add 224.0.0.0/4 dev lo"


def namespace_shell() -> list[str]:
    """`[unshare, -n, sh, -c]`: append a shell command to run it in a namespace of its own, with
    SETUP done first. Skips the test (fails it when CI is set) when namespaces are not allowed."""
    unshare = shutil.which("unshare")
    reason = None
    if unshare is None:
        reason = "unshare (util-linux) is missing"
    else:
        probe = subprocess.run([unshare, "-n", "sh", "-c", SETUP], capture_output=True, text=True)
        if probe.returncode != 0:
            reason = f"cannot make a network namespace with a multicast route: {probe.stderr.strip()}"
    if reason is not None:
        unavailable(reason)
    return [str(unshare), "-n", "sh", "-c"]


def in_namespace(*command: str) -> list[str]:
    """`command` run in a namespace of its own (one process, or a driver that starts several)."""
    return [*namespace_shell(), f'{SETUP} && exec "$0" "$@"', *command]

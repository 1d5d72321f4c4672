"""Starts two Link peers in the current (private!) network namespace; relays their output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PEER = str(Path(__file__).with_name("link_peer.py"))


def main() -> None:
    common = ["--quantum", "8", "--duration", "4"]
    peers = [
        subprocess.Popen([sys.executable, PEER, "--name", "a", "--tempo", "100", *common,
                          "--set-tempo", "140", "--set-at", "2", "--start-playing"],
                         stdout=subprocess.PIPE, text=True),
        subprocess.Popen([sys.executable, PEER, "--name", "b", "--tempo", "130", *common],
                         stdout=subprocess.PIPE, text=True),
    ]
    codes = []
    for peer in peers:
        out, _ = peer.communicate(timeout=20)
        sys.stdout.write(out)
        codes.append(peer.returncode)
    sys.exit(max(codes))


if __name__ == "__main__":
    main()

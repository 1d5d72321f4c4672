"""Two endpoints on the loopback of a private network namespace made by the test (never the
machine's own network): a share arrives whole, a ping is answered, strangers are counted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from support.netns import in_namespace

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "tests" / "support" / "peers_driver.py"


def test_a_share_arrives_a_ping_is_answered_and_strangers_are_counted() -> None:
    command = in_namespace(sys.executable, str(DRIVER))
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    show = json.loads(done.stdout)
    assert show["heard"] == [{"sender": "alice", "beat": 8.0,
                              "melodies": [["a0", [60, 62, -1, 67], [4, 4, 4, 4]], ["a3", [72], []]]}]
    [bob_sees] = show["bob sees"]
    assert bob_sees.startswith("alice at 127.0.0.1:9101: heard ") and "round trip " in bob_sees
    assert "shares a0 a3" in bob_sees
    # from an unlisted address: a share (taken apart, then refused) and 20,000 bytes (oversized);
    # one signed with another key (forged)
    assert show["alice foreign"] == {"unlisted": 1, "forged": 1, "oversized": 1}

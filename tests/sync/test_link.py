"""Ableton Link (issue #14): two real aalink peers in a private network namespace made here.

Link multicasts on every interface, so it runs only inside `unshare -n` (never in the machine's own
network namespace). Skipped without aalink, unshare or the right to use it; CI=true fails instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.netns import in_namespace
from support.optional import required_module

from ensemble.sync.link import INSTALL_HINT

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "tests" / "support" / "link_driver.py"
SETTLE = 0.5  # seconds after discovery before phases are compared (Link's measurement settles)


@pytest.fixture(scope="module")
def peers() -> dict[str, list[dict]]:
    required_module("aalink", INSTALL_HINT)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(in_namespace(sys.executable, str(DRIVER)),
                          capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    lines: dict[str, list[dict]] = {"a": [], "b": []}
    for line in done.stdout.splitlines():
        record = json.loads(line)
        lines[record["name"]].append(record)
    return lines


def _events(lines: list[dict], kind: str) -> list[dict]:
    return [record for record in lines if record["event"] == kind]


def _settled_samples(peers: dict[str, list[dict]], name: str) -> list[dict]:
    found = max(_events(peers[n], "found")[0]["t"] for n in peers)
    return [s for s in _events(peers[name], "sample") if s["t"] > found + SETTLE]


def test_peers_find_each_other_and_share_one_tempo(peers: dict[str, list[dict]]) -> None:
    for name in peers:
        assert _events(peers[name], "found"), f"peer {name} found no one"
    set_at = _events(peers["a"], "set")[0]["t"]
    before = [s["bpm"] for name in peers for s in _settled_samples(peers, name) if s["t"] < set_at - 0.01]
    assert before and max(before) - min(before) < 0.01, before  # one session tempo (100 or 130)


def test_quantum_boundaries_coincide(peers: dict[str, list[dict]]) -> None:
    set_at = _events(peers["a"], "set")[0]["t"]
    offsets = []
    for a in _settled_samples(peers, "a"):
        for b in _settled_samples(peers, "b"):
            # same tempo segment, sampled close together: the next boundaries are the same instant
            # or one quantum apart
            same_side = (a["t"] < set_at - 0.05 and b["t"] < set_at - 0.05) or (
                a["t"] > set_at + 0.1 and b["t"] > set_at + 0.1)
            if same_side and abs(a["t"] - b["t"]) < 0.05:
                period = a["quantum"] * 60.0 / a["bpm"]
                gap = (b["next"] - a["next"]) % period
                offsets.append(min(gap, period - gap))
    assert len(offsets) >= 20, offsets
    assert max(offsets) < 0.003, f"boundaries {max(offsets) * 1000:.2f} ms apart"


def test_tempo_change_reaches_the_other_peer(peers: dict[str, list[dict]]) -> None:
    set_at = _events(peers["a"], "set")[0]["t"]
    heard = [e for e in _events(peers["b"], "tempo")
             if e["t"] >= set_at - 0.001 and abs(e["bpm"] - 140) < 0.01]
    assert heard, _events(peers["b"], "tempo")
    assert heard[0]["t"] - set_at < 0.5
    after = [s["bpm"] for s in _settled_samples(peers, "b") if s["t"] > set_at + 0.5]
    assert after and all(abs(bpm - 140) < 0.01 for bpm in after)


def test_start_reaches_the_other_peer(peers: dict[str, list[dict]]) -> None:
    set_at = _events(peers["a"], "set")[0]["t"]
    started = [e for e in _events(peers["b"], "playing") if e["on"]]
    assert started and 0 <= started[0]["t"] - set_at < 0.5


def test_missing_aalink_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from ensemble.sync.link import LinkSession, LinkUnavailable

    monkeypatch.setitem(sys.modules, "aalink", None)  # makes `import aalink` raise ImportError
    with pytest.raises(LinkUnavailable, match=r"ensemble\[link\]"):
        LinkSession()


class _FakeLink:
    """Stands in for aalink.Link (no network): a fixed phase and tempo."""

    def __init__(self, phase: float, tempo: float, quantum: float) -> None:
        self.beat = self.phase = phase
        self.tempo = tempo
        self.quantum = quantum


@pytest.mark.parametrize(("phase", "quantum", "step", "min_ahead", "beats_ahead"), [
    (3.0, 8.0, None, 0.0, 5.0),   # 5 beats to the next 8-beat boundary
    (0.0, 8.0, None, 0.0, 0.0),   # on a boundary: that one
    (0.0, 8.0, None, 0.1, 8.0),   # ... unless it is too close
    (7.9, 8.0, None, 1.0, 8.1),   # the boundary after next, when the next is within min_ahead
    (3.0, 8.0, 1.0, 0.0, 0.0),    # beat grid: phase 3.0 is on a beat
    (3.5, 8.0, 2.0, 0.0, 0.5),    # two-beat grid inside the quantum
])
def test_next_boundary_arithmetic(phase: float, quantum: float, step: float | None,
                                  min_ahead: float, beats_ahead: float) -> None:
    from ensemble.sync.link import LinkSession

    session = object.__new__(LinkSession)  # no aalink, no thread: only the arithmetic
    session._link = _FakeLink(phase, 120.0, quantum)
    now = session.snapshot()[0]
    when = session.next_boundary(step, min_ahead=min_ahead)
    assert when - now == pytest.approx(beats_ahead * 0.5, abs=0.002)

"""`link on` and `link off` typed on stage, beside a real Link peer (the band) in a private
network namespace made here: the phrases move onto the band's quantum and tempo from the next
phrase, a `tempo` typed while linked reaches the band, and `link off` goes back to free time."""

from __future__ import annotations

import itertools
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
DRIVER = ROOT / "tests" / "support" / "link_stage_driver.py"
ON_THE_BOUNDARY = 0.002  # seconds


def _run(driver: Path) -> tuple[dict, str]:
    """A driver run in a network namespace of its own: the JSON it printed last, and its stderr."""
    required_module("aalink", INSTALL_HINT)
    path = os.pathsep.join([str(ROOT), str(ROOT / "tests")])
    done = subprocess.run(in_namespace(sys.executable, str(driver)), capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": path})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1]), done.stderr


@pytest.fixture(scope="module")
def show() -> dict:
    return _run(DRIVER)[0]


def _on_a_boundary(due: float, boundaries: list[list[float]]) -> float:
    """How far `due` is from the band's quantum grid, read off the sample taken nearest before it."""
    _, boundary, bpm = max((sample for sample in boundaries if sample[0] <= due), key=lambda s: s[0])
    quantum = 2 * 60.0 / bpm
    offset = (due - boundary) % quantum
    return min(offset, quantum - offset)


def test_the_replies_say_what_happens(show: dict) -> None:
    replies = show["replies"][-3:]
    assert replies[0].startswith("Link on: from the next phrase")
    assert replies[1].startswith("tempo 140: at phrase")
    assert replies[2] == "Link off: ensemble's own tempo from the next phrase"


def test_linked_phrases_start_on_the_bands_quantum_at_its_tempo(show: dict) -> None:
    typed, dues = show["typed"], show["dues"]
    linked = [due for due in dues if typed["link on"] + 1.5 < due < typed["link off"]]
    assert len(linked) >= 5
    assert max(_on_a_boundary(due, show["boundaries"]) for due in linked) <= ON_THE_BOUNDARY
    before_tempo = [b - a for a, b in itertools.pairwise(linked) if b < typed["tempo 140"]]
    assert before_tempo and all(abs(gap - 2 * 60 / 90) < 0.002 for gap in before_tempo)


def test_a_tempo_typed_while_linked_reaches_the_band(show: dict) -> None:
    after = [bpm for when, _, bpm in show["boundaries"] if show["typed"]["tempo 140"] + 1.5 < when]
    assert after and all(abs(bpm - 140) < 0.01 for bpm in after)


def test_free_before_and_after(show: dict) -> None:
    typed, dues = show["typed"], show["dues"]
    free = [due for due in dues if due < typed["link on"]]
    gaps = [b - a for a, b in itertools.pairwise(free)]
    assert gaps and all(abs(gap - 1.0) < 0.001 for gap in gaps)  # 2 beats at 120 bpm
    assert len([due for due in dues if due > typed["link off"] + 1.0]) >= 2  # it plays on


START_STOP = ROOT / "tests" / "support" / "link_start_stop_driver.py"
SEEN = 0.02 + 0.1 + 0.03  # seconds: a poll, the lookahead handed over, and a little


def test_with_start_stop_sync_the_performance_starts_and_stops_with_the_session() -> None:
    show, stderr = _run(START_STOP)
    times, dues = show["times"], show["dues"]
    assert not [due for due in dues if due < times["play"]]  # waits for the session to play
    played = [due for due in dues if times["play"] < due < times["stop"]]
    first_due = 2 * 60 / 100 + SEEN  # the next quantum boundary (2 beats at 100 bpm) at the latest
    assert played and played[0] - times["play heard"] < first_due
    assert len(played) >= int((times["stop"] - times["play heard"] - first_due) / 0.3)
    # silent from the stop on, once our peer has heard of it (Link's own delay is not ensemble's),
    # seen it (a poll) and what was handed over for the lookahead ahead has played
    heard = times["stop heard"]
    late = [round(due - heard, 3) for due in dues if heard + SEEN < due < times["again"]]
    assert not late, (late, times)
    assert [due for due in dues if due > times["again"]]  # and goes on when it plays again
    assert all(abs(later - earlier - 0.3) < 0.001 for earlier, later in itertools.pairwise(played))  # 100 bpm
    assert "waiting for the Link session to play" in stderr
    assert "the Link session stopped: holding" in stderr

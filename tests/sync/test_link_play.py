"""Two `ensemble play --link` processes in one Link session, played into one real JACK MIDI port.

Both run inside a private network namespace made here (Link multicasts: never on the machine's
own network); JACK's sockets are files, so both reach the test's jackd from there. Each plays a
seed of one note and three rests, learned before the first phrase is heard (epsilon 0): every
note-on is a phrase start. A starts alone at 100 bpm; B joins 3 s later and sets 130 bpm at its
first phrase, then 150 at its seventh: A follows both, and their phrases start together.
"""

from __future__ import annotations

import itertools
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import services
from support.jack_midi import Synth
from support.netns import SETUP, namespace_shell
from support.optional import required_module

from ensemble.sync.link import INSTALL_HINT

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """\
tempo {tempo}
step 0.5
seed {note} _ _ _
set all palette=chromatic:{low}-{high} epsilon=0 alpha=1
spawn 1
train a0 60
{waits}
"""
A_NOTES, B_NOTES = range(60, 72), range(84, 96)
TOGETHER = 0.003  # seconds: two phrase starts this close are one (sent together, they cross JACK together)


@pytest.fixture(scope="module")
def played(steady_jack: services.Jack, tmp_path_factory: pytest.TempPathFactory):
    required_module("aalink", INSTALL_HINT)
    folder = tmp_path_factory.mktemp("link")
    (folder / "a.ens").write_text(SCRIPT.format(tempo=100, note="C4", low="C4", high="B4", waits="wait 16"))
    (folder / "b.ens").write_text(SCRIPT.format(tempo=130, note="C6", low="C6", high="B6",
                                                waits="wait 6\ntempo 150\nwait 6"))
    play = f"{sys.executable} -m ensemble play {{}} --link --quantum 2 --to midi:synth --midi-backend jack"
    both = (f"{SETUP} && ({play.format('a.ens')} > a.log 2>&1 & sleep 3; "
            f"{play.format('b.ens')} > b.log 2>&1; wait)")
    env = {**steady_jack.env, "PYTHONPATH": str(ROOT)}
    synth = Synth()
    try:
        done = subprocess.run([*namespace_shell(), both], cwd=folder, env=env, timeout=90,
                              capture_output=True, text=True)
        time.sleep(0.1)  # the last messages cross JACK's next period
    finally:
        synth.close()
    logs = {name: (folder / f"{name}.log").read_text() for name in "ab"}
    assert done.returncode == 0, (done.stderr, logs)
    starts = {"a": [], "b": []}
    for at, message in synth.received:
        if message.type == "note_on" and message.velocity > 0:
            starts["a" if message.note in A_NOTES else "b"].append(at)
    return starts, logs


def _intervals(times: list[float], after: float, before: float) -> list[float]:
    """The gaps between successive phrase starts, both within [after, before]."""
    pairs = itertools.pairwise(times)
    return [later - earlier for earlier, later in pairs if after <= earlier and later <= before]


def test_both_play_every_phrase(played) -> None:
    starts, logs = played
    assert len(starts["a"]) == 16, logs["a"]  # every phrase heard: none lost while joining
    assert len(starts["b"]) == 12, logs["b"]


def test_the_first_follows_the_tempo_set_by_the_second(played) -> None:
    starts, _ = played
    a, b = starts["a"], starts["b"]
    alone = _intervals(a, a[0], b[0] - 0.5)  # B set its tempo a little before its first phrase
    at_130 = _intervals(a, b[1], b[5])
    at_150 = _intervals(a, b[7], b[-1])
    phrase = 2 * 60.0  # seconds per phrase times bpm
    cycle = 256 / 48000 + 0.001  # a time through JACK is good to a period (steady_jack's)
    assert alone and statistics.median(alone) == pytest.approx(phrase / 100, abs=cycle)
    assert at_130 and statistics.median(at_130) == pytest.approx(phrase / 130, abs=cycle)
    assert at_150 and statistics.median(at_150) == pytest.approx(phrase / 150, abs=cycle)


def test_their_phrases_start_together(played) -> None:
    starts, _ = played
    apart = [min(abs(b - a) for a in starts["a"]) for b in starts["b"][1:]]  # B's first: joining
    within = sum(gap <= TOGETHER for gap in apart)
    assert within >= len(apart) - 1, [round(gap * 1000, 1) for gap in apart]  # a tempo change may lag one



def test_without_link_nothing_of_it_is_loaded(steady_jack: services.Jack, tmp_path: Path) -> None:
    """Off unless asked for: a performance without --link never loads Link, so nothing of it is
    sent or listened to on the network."""
    solo = SCRIPT.format(tempo=200, note="C4", low="C4", high="B4", waits="wait 1")
    (tmp_path / "solo.ens").write_text(solo)
    probe = ("import sys\nfrom ensemble import cli\n"
             "code = cli.main(['play', 'solo.ens', '--to', 'midi', '--midi-backend', 'jack'])\n"
             "print(code, 'aalink' in sys.modules, 'ensemble.sync.link' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, env={**steady_jack.env, "PYTHONPATH": str(ROOT)})
    assert done.stdout.splitlines()[-1].split() == ["0", "False", "False"], done.stdout + done.stderr

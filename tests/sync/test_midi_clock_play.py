"""`ensemble play --clock-in`: a plain clock sender (100 then 133 bpm, a stop, a continue) drives
ensemble through a real realtime jackd; its note-ons land on the incoming beats, none while the
clock is stopped. And one ensemble (`--midi-clock`) drives another (`--clock-in`).

Each performance plays a seed of one note and three rests at half a beat a step, learned before
the first phrase is heard (epsilon 0): every note-on is a phrase start, two beats apart.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from support import services
from support.clock_sender import CONTINUE, START, STOP, ClockSender
from support.jack_midi import Synth

ROOT = Path(__file__).resolve().parents[2]
FOLLOWER = """\
step 0.5
seed C4 _ _ _
set all palette=chromatic:C4-B4 epsilon=0 alpha=1
spawn 1
train a0 60
wait {phrases}
"""


def on_the_beat(jack: services.Jack) -> float:
    """Seconds a note-on may be from the pulse of its beat, both as they arrive: each crosses
    JACK on the cycle after it is sent, so one period apart at most, and a millisecond."""
    return jack.period / jack.rate + 0.001


def missed_cycles(jack: services.Jack, log_from: int) -> float:
    """A period for each cycle JACK logged as missed since `log_from`: a message may cross late."""
    return jack.xruns_since(log_from) * jack.period / jack.rate



def _follower(folder: Path, jack: services.Jack, phrases: int, clock_port: str) -> subprocess.Popen[str]:
    (folder / "follow.ens").write_text(FOLLOWER.format(phrases=phrases))
    port = [clock_port] if clock_port else []
    # A pulse is heard at the start of the JACK cycle after it was sent (its frame in that cycle),
    # and the notes sound a cycle after they are sent: --nudge takes the one cycle back.
    nudge = f"midi={jack.period / jack.rate:.6f}"
    command = [sys.executable, "-m", "ensemble", "play", "follow.ens", "--clock-in", *port,
               "--to", "midi:synth", "--midi-backend", "jack", "--nudge", nudge]
    return subprocess.Popen(command, cwd=folder, env={**jack.env, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _note_ons(synth: Synth) -> list[float]:
    return [at for at, message in synth.received if message.type == "note_on" and message.velocity > 0]


def test_note_ons_land_on_the_incoming_beats_through_a_tempo_change_a_stop_and_a_continue(
        steady_jack: services.Jack, tmp_path: Path) -> None:
    sender = ClockSender()
    synth = Synth()
    log_from = steady_jack.log_position()
    follower = _follower(tmp_path, steady_jack, 10, "drummachine:clock")
    try:
        steady_jack.wait_for_client("ensemble-clock-in")
        time.sleep(1.0)  # its output connected to the synth, its first phrase composed
        sender.at = time.monotonic() + 0.05
        sender.send(START, sender.at)
        sender.at += 0.001
        sender.clock(100, 8)
        sender.clock(133, 8)
        sender.send(STOP, sender.at)
        stopped = (sender.at, time.monotonic() + 1.0)
        sender.at = stopped[1]
        sender.send(CONTINUE, sender.at)
        sender.at += 0.001
        sender.clock(133, 10)
        sender.send(STOP, sender.at)
        out, err = follower.communicate(timeout=30)
        time.sleep(0.1)
    finally:
        if follower.poll() is None:
            follower.kill()
        for port in (synth, sender):
            port.close()
    assert follower.returncode == 0, err
    assert "played 10 phrases" in out, out + err
    beats = sender.beats  # when the pulse of each beat was sent (Stop replaced beat 16's first)
    ons = _note_ons(synth)
    assert len(ons) == 10, err
    # silent while the clock is stopped (but for the note due on the very pulse the Stop replaced:
    # it was on its way before the Stop could be known)
    near = on_the_beat(steady_jack)
    assert not [at for at in ons if stopped[0] + 2 * near < at < stopped[1]]
    # each note-on as it arrived against the nearest beat as it was sent, and every one on an even
    # beat (a phrase is two beats; beat 0 of the follower falls on one of the clock's quanta); the
    # one on the pulse the Stop replaced has no pulse to be measured against
    ons = [at for at in ons if not stopped[0] - near <= at <= stopped[0] + 2 * near]  # nudged: early
    nearest = [min(range(len(beats)), key=lambda index, at=at: abs(beats[index] - at)) for at in ons]
    errors = [abs(at - beats[index]) for at, index in zip(ons, nearest, strict=True)]
    print("note-on - its beat (ms):", [round(error * 1000, 2) for error in errors])
    assert all(index % 2 == 0 for index in nearest), nearest
    assert statistics.median(errors) <= near
    assert max(errors) <= 2 * near + missed_cycles(steady_jack, log_from), errors
    assert "holding" in err and "going on" in err


LEADER = """\
tempo 110
step 0.5
seed C6 _ _ _
set all palette=chromatic:C6-B6 epsilon=0 alpha=1
spawn 1
train a0 60
wait 5
tempo 140
wait 7
"""


def test_one_ensemble_follows_another_through_its_midi_clock(steady_jack: services.Jack,
                                                              tmp_path: Path) -> None:
    """The leader sends its clock (`--midi-clock`) to the follower's own port and its notes to a
    listener; the follower's phrases start with the leader's, through the leader's tempo change."""
    (tmp_path / "lead.ens").write_text(LEADER)
    synth = Synth()
    heard_lead = Synth(name="lead-listener")
    log_from = steady_jack.log_position()
    follower = _follower(tmp_path, steady_jack, 8, "")
    leader = None
    try:
        steady_jack.wait_for_client("ensemble-clock-in")
        time.sleep(1.0)
        leader = subprocess.Popen(
            [sys.executable, "-m", "ensemble", "play", "lead.ens", "--midi-clock", "--midi-backend", "jack",
             "--to", "midi:ensemble-clock-in", "--to", "midi:lead-listener"],
            cwd=tmp_path, env={**steady_jack.env, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out, err = follower.communicate(timeout=40)
        _, lead_err = leader.communicate(timeout=40)
        time.sleep(0.1)
    finally:
        for process in (follower, leader):
            if process is not None and process.poll() is None:
                process.kill()
        synth.close()
        heard_lead.close()
    assert follower.returncode == 0 and leader.returncode == 0, err + lead_err
    assert "played 8 phrases" in out, out + err
    lead_ons, ons = _note_ons(heard_lead), _note_ons(synth)
    assert len(ons) == 8 and len(lead_ons) == 12
    apart = [min(abs(at - lead) for lead in lead_ons) for at in ons]
    print("follower's phrase starts - the leader's (ms):", [round(gap * 1000, 2) for gap in apart])
    near = on_the_beat(steady_jack)
    assert statistics.median(apart) <= near
    assert max(apart) <= 2 * near + missed_cycles(steady_jack, log_from), apart

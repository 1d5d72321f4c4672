"""Clock in: `ensemble play --clock-in` note-ons against the incoming pulses, vs sending on the tick.

A plain clock sender (tests/support/clock_sender.py, as a drum machine would be) sends 24-PPQN
clock through a realtime jackd (-d dummy -r 48000 -p 64: a period is 1.33 ms): Start, then
BEATS beats at 100 bpm, BEATS at 133, BEATS at 90 (and on at 90 until the follower is done).
Each follower plays a note on every step (quarter beats: one every 6 pulses) into `synth`, a
JACK MIDI input in this process that the sender's output is connected to as well, so the
pulses and the notes are stamped on one time line, as they arrive (JACK's own stamps:
stamped_midi.py).

ensemble: `ensemble play --clock-in drummachine --to midi:synth`, a learned seed of 8 notes
          (epsilon 0): it estimates tempo and phase from the pulses and places notes ahead.
on tick:  isobar-style following, a small follower run by this script in a process of its own:
          an rtmidi input callback (as isobar's mido input installs) that, on every 6th pulse
          since Start, sends the step's note at once.

Figures, for each note-on: its arrival - the arrival of the pulse of its step (the nearest
6th pulse). Phase error at steady tempo: from 2 beats after Start or a tempo change on, |error|
p50/p99/max. Beats to settle after a change: the first whole beat after it from which every
note-on of that tempo is within 3 ms of its pulse; and the largest error in the first 2 beats
after a change. A message sent by rtmidi goes out at the start of JACK's next period, so errors
come in whole periods (0, 1.33, 2.67 ms ...). Every run also says how many JACK cycles failed
(MIDI lost or late in them): on a shared machine that, not the follower, can dominate a run.
Also (from the prototype): the ClockFollower alone, replayed on the pulses as they arrived,
beats until its tempo stays within 0.5 bpm of the new one.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rtmidi
from benchlib import print_table, spread, verdict
from stamped_midi import StampedInput, failed_cycles, note_ons, quiet_check

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.clock_sender import CLOCK, CONTINUE, PPQN, START, STOP, ClockSender
from support.services import Jack

from ensemble.midi.clock_in import ClockFollower

ROOT = Path(__file__).resolve().parent.parent
RATE, PERIOD = 48000, 64
TEMPI = (100.0, 133.0, 90.0)
TEMPI_TEXT = ", ".join(f"{bpm:g}" for bpm in TEMPI)
STEP, STEPS = 0.25, 8  # beats a step, steps a phrase: a note on each
PULSES_A_STEP = round(STEP * PPQN)
SENDER, SYNTH = "drummachine", "synth"
MATCH = 0.006  # s: a pulse arrives this close to its send time plus the usual latency (they are 18 ms apart)
ON_THE_PULSE = 0.003  # s: a note-on this close to its step's pulse is on it (the target's bound)
STEADY_AFTER = 2  # beats after Start or a change from which the tempo counts as steady
EXTRA_BEATS = 8  # at most, at the last tempo, while ensemble finishes its last phrase
TARGET_P99_MS, TARGET_SETTLE_BEATS = 3.0, 2
SCRIPT = """\
step {step:g}
seed C4 D4 E4 F4 G4 A4 B4 A4
set all palette=chromatic:C4-B4 epsilon=0 alpha=1
spawn 1
train a0 80
wait {phrases}
"""
TICK_CLIENT = "on-the-tick"
TICK_NOTES = (72, 74, 76, 77, 79, 81, 83, 81)  # C5 D5 E5 F5 G5 A5 B5 A5


# The isobar-style follower (run as `clock_in_follow.py --on-the-tick` by the bench) ----------
def on_the_tick() -> None:
    """Sends each step's note the moment the pulse that starts it arrives, from the input
    callback; runs until its standard input closes."""
    out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=f"{TICK_CLIENT}-out")
    out.open_port(out.get_ports().index(f"{SYNTH}:{SYNTH}"), "out")
    state = {"running": False, "pulses": 0, "step": 0, "sounding": -1}

    def note_off() -> None:
        if state["sounding"] >= 0:
            out.send_message([0x80, state["sounding"], 0])
            state["sounding"] = -1

    def received(event: tuple[list[int], float], _: object) -> None:
        status = event[0][0]
        if status == START:
            state.update(running=True, pulses=0, step=0)
        elif status == CONTINUE:
            state["running"] = True
        elif status == STOP:
            state["running"] = False
            note_off()
        elif status == CLOCK and state["running"]:
            if state["pulses"] % PULSES_A_STEP == 0:
                note_off()
                note = TICK_NOTES[state["step"] % len(TICK_NOTES)]
                out.send_message([0x90, note, 100])
                state["sounding"], state["step"] = note, state["step"] + 1
            state["pulses"] += 1

    midi_in = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name=TICK_CLIENT)
    midi_in.ignore_types(timing=False)
    midi_in.set_callback(received)
    midi_in.open_port(midi_in.get_ports().index(f"{SENDER}:clock"), "clock")
    sys.stdin.read()
    midi_in.close_port()
    note_off()
    time.sleep(0.01)  # JACK sends on its next period
    out.close_port()


# The bench --------------------------------------------------------------------------------
@dataclass
class Run:
    label: str
    pulses_sent: int
    pulses: list[float] = field(default_factory=list)  # arrival of each pulse since Start
    arrived: dict[int, float] = field(default_factory=dict)  # the sender's pulse serial -> its arrival
    unmeasured: int = 0  # note-ons whose step's pulse never reached the synth
    notes: list[tuple[float, float]] = field(default_factory=list)  # (step's beat, arrival - its pulse)
    missing: int = 0  # steps between the first and the last note-on that had none
    extra: int = 0  # note-ons beyond one a step
    code: int | None = 0
    log: str = ""
    failed: int = 0  # JACK cycles that did not finish in time during the run


SETTLE = 1.5  # s after a follower's client is there: its output opens and connects meanwhile


def clock(sender: ClockSender, beats: int, follower: subprocess.Popen[str] | None) -> None:
    """Start, the tempo schedule, then (for `follower`, until it is done) on at the last tempo."""
    sender.at = time.monotonic() + 0.05
    sender.send(START, sender.at)
    sender.at += 0.001
    for bpm in TEMPI:
        sender.clock(bpm, beats)
    for _ in range(EXTRA_BEATS):
        if follower is None or follower.poll() is not None:
            break
        sender.clock(TEMPI[-1], 1)
    sender.send(STOP, sender.at)


def serials(arrivals: list[float], dues: list[float]) -> dict[int, float]:
    """Which of the sender's pulses each arrival is (serial -> arrival), by its send time: a pulse
    lost on the way leaves a gap instead of shifting every later one. The arrivals are on JACK's
    clock, the send times on ours: the offset between them is taken from the first arrival, as
    whichever of the first pulses sent matches the most arrivals."""
    best: dict[int, float] = {}
    for first in range(min(8, len(dues)) if arrivals else 0):
        offset = arrivals[0] - dues[first]
        matched: dict[int, float] = {}
        for at in arrivals:
            index = bisect.bisect_left(dues, at - offset)
            serial = min((i for i in (index - 1, index) if 0 <= i < len(dues)),
                         key=lambda i: abs(dues[i] + offset - at))
            if abs(dues[serial] + offset - at) <= MATCH:
                matched.setdefault(serial, at)
        if len(matched) > len(best):
            best = matched
    return best


def measure(label: str, received: list[tuple[float, list[int]]], dues: list[float]) -> Run:
    run = Run(label, len(dues))
    for at, data in received:
        if data and data[0] == START:
            run.pulses = []
        elif data and data[0] == CLOCK:
            run.pulses.append(at)
    run.arrived = arrived = serials(run.pulses, dues)
    if not arrived:
        return run
    offset = statistics.median(at - dues[serial] for serial, at in arrived.items())  # usual latency too
    step_dues = [due + offset for due in dues[::PULSES_A_STEP]]  # when each step's pulse should arrive
    heard: set[int] = set()
    for at, _ in note_ons(received):
        index = bisect.bisect_left(step_dues, at)
        step = min((i for i in (index - 1, index) if 0 <= i < len(step_dues)),
                   key=lambda i: abs(step_dues[i] - at))
        run.extra += step in heard
        heard.add(step)
        if (pulse := arrived.get(step * PULSES_A_STEP)) is None:
            run.unmeasured += 1  # its pulse was lost on the way to the synth
        else:
            run.notes.append((step * STEP, at - pulse))
    if heard:
        run.missing = max(heard) - min(heard) + 1 - len(heard)
    return run


def follow(label: str, command: list[str] | None, folder: Path, beats: int, jack: Jack, sender: ClockSender,
           synth: StampedInput) -> Run:
    env = {**jack.env, "PYTHONPATH": str(ROOT)}
    if command is None:  # the follower on the tick
        process = subprocess.Popen([sys.executable, __file__, "--on-the-tick"], env=env, text=True,
                                   stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    else:
        process = subprocess.Popen(command, cwd=folder, env=env, text=True, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # Through JACK clients kept open, never jack_lsp: clients opened and closed while a process
        # opens its own were seen to leave that process's client never woken (README).
        jack.wait_for_client("ensemble-clock-in" if command is not None else TICK_CLIENT)
        time.sleep(SETTLE)
        if command is not None:
            time.sleep(1.0)  # ensemble's first phrase composed while it waits for the clock
        synth.take()
        sent_before = len(sender.sent)
        clock(sender, beats, process if command is not None else None)
        dues = [due for status, due in sender.sent[sent_before:] if status == CLOCK]
        try:
            out, err = process.communicate(input="" if command is None else None, timeout=10)
        except subprocess.TimeoutExpired:  # ensemble still waiting for beats that will not come
            process.kill()
            out, err = process.communicate()
            err += "\n(killed: still playing 10 s after the clock stopped)"
        err = (out or "") + err
        time.sleep(0.1)  # the last messages cross JACK's next period
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    run = measure(label, synth.take(), dues)
    run.code, run.log = process.returncode, err
    return run


def steady_errors_ms(run: Run, beats: int) -> list[float]:
    """arrival - its pulse of the note-ons at steady tempo: STEADY_AFTER beats or more into a tempo
    (the last one goes on past its `beats`, while ensemble finishes)."""
    def into_tempo(beat: float) -> float:
        return beat - min(int(beat // beats), len(TEMPI) - 1) * beats

    return [1000 * error for beat, error in run.notes if into_tempo(beat) >= STEADY_AFTER]


def settle_beats(run: Run, beats: int, change: int) -> str:
    """Whole beats after the `change`th tempo change until every note-on of that tempo is within
    ON_THE_PULSE of its pulse."""
    start = change * beats
    section = sorted((beat - start, abs(error)) for beat, error in run.notes if start <= beat < start + beats)
    if not section:
        return "n/a"
    late = [beat for beat, error in section if error > ON_THE_PULSE]
    return "0" if not late else (str(math.floor(max(late)) + 1) if max(late) < beats - 1 else f">{beats - 1}")


def after_changes_ms(run: Run, beats: int) -> str:
    """The largest |arrival - its pulse| in the STEADY_AFTER beats after each tempo change. A note
    more than half a step off counts against the step it came nearest (and that step shows as
    having an extra note, its own as missing one)."""
    errors = [1000 * abs(error) for beat, error in run.notes
              if any(0 <= beat - change * beats < STEADY_AFTER for change in range(1, len(TEMPI)))]
    return f"{max(errors):.2f}" if errors else "n/a"


def tempo_settles(arrived: dict[int, float], beats: int) -> list[str]:
    """Beats after each change until the ClockFollower's tempo stays within 0.5 bpm of the new one
    (fed the pulses that arrived, as ensemble's is: it infers the lost ones)."""
    follower = ClockFollower()
    follower.start()
    estimates = []  # (serial, bpm)
    for serial in sorted(arrived):
        follower.pulse(arrived[serial])
        estimates.append((serial, follower.bpm or 0.0))
    settled = []
    for change, bpm in enumerate(TEMPI[1:], start=1):
        start = change * beats * PPQN
        section = [(serial, e) for serial, e in estimates if start <= serial < start + beats * PPQN]
        first = next((serial for i, (serial, _) in enumerate(section)
                      if all(abs(e - bpm) < 0.5 for _, e in section[i:])), None)
        settled.append("n/a" if first is None else f"{(first - start) / PPQN:.2f}")
    return settled



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beats", type=int, default=24, help="beats at each tempo (default 24)")
    parser.add_argument("--quick", action="store_true", help="8 beats at each tempo (~15 s a follower)")
    parser.add_argument("--nudge", type=float, default=None, metavar="SECONDS",
                        help="also run ensemble with --nudge SECONDS (e.g. 0.00133, one JACK period)")
    # the baseline's own process, started by the bench
    parser.add_argument("--on-the-tick", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.on_the_tick:
        on_the_tick()
        return
    beats = 8 if args.quick else args.beats
    if beats < STEADY_AFTER + 2:
        raise SystemExit(f"--beats must be at least {STEADY_AFTER + 2}")
    sys.setswitchinterval(0.0005)  # the sender's thread gets the GIL back soon after its sleeps
    phrases = math.ceil(len(TEMPI) * beats / (STEP * STEPS))
    # -X faulthandler: should it crash, its log says where
    base = [sys.executable, "-X", "faulthandler", "-m", "ensemble", "play", "follow.ens",
            "--clock-in", SENDER, "--to", f"midi:{SYNTH}", "--midi-backend", "jack"]
    followers: list[tuple[str, list[str] | None]] = [("ensemble", base), ("on the tick", None)]
    if args.nudge is not None:
        followers.insert(1, (f"ensemble --nudge {args.nudge:g}", [*base, "--nudge", f"{args.nudge:g}"]))

    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="ensemble-clock-bench-") as folder, \
            Jack(rate=RATE, period=PERIOD, realtime=True) as jack:
        (Path(folder) / "follow.ens").write_text(SCRIPT.format(step=STEP, phrases=phrases))
        for key in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER"):
            os.environ[key] = jack.env[key]  # our own clients find this server
        sender = ClockSender(SENDER, "clock")
        synth = StampedInput(SYNTH, connect_to=f"{SENDER}:clock")
        try:
            print(quiet_check(jack.log), flush=True)
            for label, command in followers:
                print(f"following: {label} ({len(TEMPI) * beats} beats at {TEMPI_TEXT} bpm; load average "
                      f"{os.getloadavg()[0]:.2f})", flush=True)
                position = jack.log_position()
                runs.append(follow(label, command, Path(folder), beats, jack, sender, synth))
                runs[-1].failed = failed_cycles(jack.log, position)
                for line in synth.midi.drain_messages():  # its reader restarted, say
                    print(f"  the bench's synth input: {line}", flush=True)
        finally:
            synth.close()
            sender.close()

    for run in runs:
        if run.code != 0:
            print(f"[{run.label}] exit {run.code}:\n{run.log[-1500:]}")
    print(f"\nsteps of {STEP:g} beat (a note every {PULSES_A_STEP} pulses), {beats} beats at each of "
          f"{TEMPI_TEXT} bpm; jackd realtime -d dummy -r {RATE} -p {PERIOD} "
          f"({1000 * PERIOD / RATE:.2f} ms period)")
    rows = []
    for run in runs:
        signed = steady_errors_ms(run, beats)
        rows.append([run.label, f"{len(run.arrived)}/{run.pulses_sent}", str(len(run.notes) + run.unmeasured),
                     str(run.missing), str(run.extra), str(run.unmeasured), str(run.failed),
                     f"{np.median(signed):+.2f}" if signed else "n/a",
                     *spread([abs(error) for error in signed]),
                     after_changes_ms(run, beats),
                     *(settle_beats(run, beats, change) for change in range(1, len(TEMPI)))])
    changes = [f"max ms {STEADY_AFTER} beats after changes",
               *(f"settle {a:g}->{b:g} beats" for a, b in itertools.pairwise(TEMPI))]
    print_table(["follower", "pulses heard/sent", "note-ons", "missing", "extra", "no pulse", "failed cycles",
                 "steady median ms", "|p50| ms", "|p99| ms", "|max| ms", *changes], rows)
    print("error = a note-on's arrival at the synth - the arrival of its step's pulse there (JACK's stamps); "
          f"steady = from {STEADY_AFTER} beats after Start or a tempo change; settle = whole beats after the "
          f"change until every note-on is within {1000 * ON_THE_PULSE:g} ms of its pulse; missing = steps "
          "without a note-on between the first and the last; extra = more than one on a step; no pulse = "
          "note-ons not measured, their step's pulse lost on the way to the synth; failed cycles = JACK "
          "cycles whose graph did not finish in time, in which MIDI may be lost or late")
    ours = runs[0]
    print(f"ClockFollower replayed on the pulses as they arrived: tempo within 0.5 bpm "
          f"{', '.join(tempo_settles(ours.arrived, beats))} beats after the changes")
    steady = [abs(error) for error in steady_errors_ms(ours, beats)]
    settles = [settle_beats(ours, beats, change) for change in range(1, len(TEMPI))]
    met = (ours.code == 0 and bool(steady) and float(np.percentile(steady, 99)) <= TARGET_P99_MS
           and all(s.isdigit() and int(s) <= TARGET_SETTLE_BEATS for s in settles))
    verdict(f"ensemble steady p99 <= {TARGET_P99_MS:g} ms, settled within {TARGET_SETTLE_BEATS} beats", met)


if __name__ == "__main__":
    main()

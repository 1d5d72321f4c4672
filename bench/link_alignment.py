"""Link alignment: two `ensemble play --link` processes into one JACK MIDI port, vs two free-running.

linked: A and B, started together, join one Ableton Link session (`--link`, quantum one phrase)
        inside a private network namespace made here (`unshare -n`, loopback up, a multicast
        route on it): Link never runs on the machine's own network. JACK's sockets are files, so
        both reach the bench's jackd from there.
free:   the same two scripts, started together the same way, without --link: what two performers
        get who start together and count on their own.

Both play a learned seed with a note on every step (quarter beats; A in C4-B4, B in C6-B6) for
the same time, with tempo changes from either side: both start at 120 bpm, A sets 140 a quarter
of the way in, B sets 100 at half way, A sets 132 at three quarters. Into one real jackd
(realtime, -d dummy -r 48000 -p 64: a period is 1.33 ms), whose MIDI input in this process
stamps each message with JACK's time (stamped_midi.py). Figure: for every B note-on while both
play, how far the nearest A note-on is, p50/p99/max; and the same over the B note-ons that have
an A partner (an A note lost in JACK leaves its B note a whole step from the nearest). A message
sent by rtmidi goes out at the start of JACK's next period, so offsets come in whole periods
(0, 1.33, 2.67 ms ...). Every run also says how many JACK cycles failed (MIDI lost or late in
them). `--ordinary-priority` (a diagnosis) runs both ensembles without the right to realtime
scheduling, so that their MIDI sender threads cannot take SCHED_FIFO.
"""

from __future__ import annotations

import argparse
import bisect
import importlib.util
import itertools
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from benchlib import print_table, spread, verdict
from stamped_midi import StampedInput, failed_cycles, note_ons, quiet_check

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.netns import SETUP
from support.services import Jack

ROOT = Path(__file__).resolve().parent.parent
RATE, PERIOD = 48000, 64
STEP, STEPS = 0.25, 8  # beats a step, steps a phrase: a note on each
PHRASE_BEATS = STEP * STEPS
START_TEMPO = 120.0
# (who sets it, bpm) at the start of each quarter of the run after the first
CHANGES = (("a", 140.0), ("b", 100.0), ("a", 132.0))
SCRIPT = """\
tempo {tempo:g}
step {step:g}
seed {seed}
set all palette=chromatic:{low}-{high} epsilon=0 alpha=1
spawn 1
train a0 80
{waits}
"""
PLAYERS = {  # seed, palette bounds, the note numbers they cover
    "a": ("C4 D4 E4 F4 G4 A4 B4 A4", "C4", "B4", range(60, 72)),
    "b": ("C6 D6 E6 F6 G6 A6 B6 A6", "C6", "B6", range(84, 96)),
}
TARGET_P99_MS = 2.0
PLATEAU = 8  # note-on intervals in a row at one tempo make a tempo heard (not a passing one)


def phrases_per_quarter(seconds: float) -> list[int]:
    """Phrases in each quarter of the run, at that quarter's tempo (Link makes it everyone's)."""
    tempi = [START_TEMPO, *(bpm for _, bpm in CHANGES)]
    return [max(1, round(seconds / 4 * bpm / 60.0 / PHRASE_BEATS)) for bpm in tempi]


def script_text(player: str, quarters: list[int]) -> str:
    seed, low, high, _ = PLAYERS[player]
    lines, waited = [], 0
    for quarter, (who, bpm) in enumerate(CHANGES, start=1):
        if who == player:
            lines += [f"wait {sum(quarters[:quarter]) - waited}", f"tempo {bpm:g}"]
            waited = sum(quarters[:quarter])
    lines.append(f"wait {sum(quarters) - waited}")
    return SCRIPT.format(tempo=START_TEMPO, step=STEP, seed=seed, low=low, high=high, waits="\n".join(lines))


def namespace_problem() -> str | None:
    """Why a network namespace with a multicast route cannot be made here; None when it can."""
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is missing"
    probe = subprocess.run(["unshare", "-n", "sh", "-c", SETUP], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"cannot make a network namespace with a multicast route: {probe.stderr.strip()}"
    return None


@dataclass
class Run:
    onsets: dict[str, list[float]]  # player -> JACK times of its note-ons
    offsets_ms: list[float]  # each B note-on while both play -> the nearest A note-on
    partnered: list[bool]  # whether that A note-on is its partner (see nearest_offsets)
    codes: dict[str, int | None]  # exit codes (None: never wrote one)
    logs: dict[str, str]
    failed: int  # JACK cycles that did not finish in time during the run

    def partnered_offsets(self) -> list[float]:
        return [offset for offset, partner in zip(self.offsets_ms, self.partnered, strict=True) if partner]


def play_both(linked: bool, folder: Path, seconds: float, jack: Jack, synth: StampedInput,
              python: str) -> Run:
    quarters = phrases_per_quarter(seconds)
    for player in PLAYERS:
        (folder / f"{player}.ens").write_text(script_text(player, quarters))
        (folder / f"{player}.rc").unlink(missing_ok=True)
    link = " --link" if linked else ""
    # -X faulthandler: should it crash, its log says where
    play = (f"{python} -X faulthandler -m ensemble play {{0}}.ens{link} --to midi:synth --midi-backend jack "
            f"> {{0}}.log 2>&1; echo $? > {{0}}.rc")
    # One namespace for both (Link's peers must see each other), and both started at once.
    both = f"{SETUP} && (({play.format('a')}) & ({play.format('b')}) & wait)"
    position = jack.log_position()
    synth.take()
    process = subprocess.Popen(["unshare", "-n", "sh", "-c", both], cwd=folder, start_new_session=True,
                               env={**jack.env, "PYTHONPATH": str(ROOT)}, stdin=subprocess.DEVNULL)
    try:
        process.wait(timeout=2 * seconds + 90)
    except subprocess.TimeoutExpired:
        print(f"  still playing after {2 * seconds + 90:g} s: stopped", flush=True)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # the group this bench started, nothing else
            process.wait()
    time.sleep(0.1)  # the last messages cross JACK's next period
    received = synth.take()
    onsets: dict[str, list[float]] = {player: [] for player in PLAYERS}
    for at, note in note_ons(received):
        for player, (*_, notes) in PLAYERS.items():
            if note in notes:
                onsets[player].append(at)
    codes = {}
    for player in PLAYERS:
        rc = folder / f"{player}.rc"
        codes[player] = int(rc.read_text()) if rc.exists() else None
    logs = {player: (folder / f"{player}.log").read_text(errors="replace") for player in PLAYERS}
    offsets, partnered = nearest_offsets(onsets["a"], onsets["b"])
    return Run(onsets, offsets, partnered, codes, logs, failed_cycles(jack.log, position))


def nearest_offsets(a: list[float], b: list[float]) -> tuple[list[float], list[bool]]:
    """|b - nearest a| in ms for each b while both play (from the later first note-on to the
    earlier last: before and after, one plays alone), and whether it has an A partner: the nearest
    A note-on closer than 3/4 of A's step there (the median of A's intervals around it). Two
    processes that count on their own are at most half a step apart; a B note without a partner
    is one whose A note never arrived (lost in JACK), so that its nearest is a step away."""
    if len(a) < 2 or not b:
        return [], []
    a = sorted(a)
    gaps = [later - earlier for earlier, later in itertools.pairwise(a)]
    start, end = max(a[0], b[0]), min(a[-1], b[-1])
    offsets, partnered = [], []
    for at in b:
        if start <= at <= end:
            index = bisect.bisect_left(a, at)
            offset = min(abs(at - a[i]) for i in (index - 1, index) if 0 <= i < len(a))
            step = statistics.median(gaps[max(0, index - 4) : index + 3])
            offsets.append(1000 * offset)
            partnered.append(offset < 0.75 * step)
    return offsets, partnered


def tempi_heard(onsets: list[float]) -> list[float]:
    """The tempi a player held for PLATEAU note-ons or more, in order: each from the time its
    steps took together (one interval is off by up to a JACK period, 1.3 bpm at 120)."""
    gaps = [later - earlier for earlier, later in itertools.pairwise(onsets) if later > earlier]
    heard: list[float] = []
    run: list[float] = []
    for gap in [*gaps, math.inf]:  # the end closes the last run
        if run and abs(60.0 * STEP / gap - 60.0 * STEP / statistics.median(run)) > 5:
            bpm = 60.0 * STEP * len(run) / sum(run)
            if len(run) >= PLATEAU and not (heard and abs(heard[-1] - bpm) < 2):  # a lost note splits one
                heard.append(bpm)
            run = []
        run.append(gap)
    return heard



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each run (default 60)")
    parser.add_argument("--quick", action="store_true", help="15 s runs")
    parser.add_argument("--ordinary-priority", action="store_true",
                        help="a diagnosis: run both ensembles without the right to realtime scheduling "
                             "(setpriv drops CAP_SYS_NICE), so their MIDI senders stay at ordinary priority")
    args = parser.parse_args()
    seconds = 15.0 if args.quick else args.seconds
    if importlib.util.find_spec("aalink") is None:
        raise SystemExit("aalink is missing: pip install 'ensemble[link]'")
    if (problem := namespace_problem()) is not None:
        raise SystemExit(f"Link runs only in a network namespace of the bench's own, and {problem}")

    python = sys.executable
    if args.ordinary_priority:
        if shutil.which("setpriv") is None:
            raise SystemExit("--ordinary-priority needs setpriv (util-linux)")
        python = f"setpriv --bounding-set=-sys_nice {sys.executable}"
    quarters = phrases_per_quarter(seconds)
    results: dict[str, Run] = {}
    folder = Path(tempfile.mkdtemp(prefix="ensemble-link-bench-"))
    try:
        with Jack(rate=RATE, period=PERIOD, realtime=True) as jack:
            for key in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER"):
                os.environ[key] = jack.env[key]  # our own input's client finds this server
            synth = StampedInput("synth")
            try:
                print(quiet_check(jack.log), flush=True)
                for condition in ("linked", "free"):
                    print(f"playing {condition}: 2 x {sum(quarters)} phrases of {PHRASE_BEATS:g} beats "
                          f"(~{seconds:g} s; load average {os.getloadavg()[0]:.2f})", flush=True)
                    linked = condition == "linked"
                    results[condition] = play_both(linked, folder, seconds, jack, synth, python)
            finally:
                synth.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    for condition, run in results.items():
        for player in PLAYERS:
            if run.codes[player] != 0:
                print(f"[{condition} {player}] exit {run.codes[player]}:\n{run.logs[player][-1500:]}")
        heard = {player: ", ".join(f"{bpm:.1f}" for bpm in tempi_heard(run.onsets[player]))
                 for player in PLAYERS}
        print(f"[{condition}] tempi heard (bpm, from note-on spacing): A {heard['a']}; B {heard['b']}")

    planned = [START_TEMPO, *(bpm for _, bpm in CHANGES)]
    who = ", ".join(f"{player.upper()} sets {bpm:g}" for player, bpm in CHANGES)
    print(f"\nsteps of {STEP:g} beat, a note on each; {sum(quarters)} phrases each ({quarters} a quarter "
          f"at {', '.join(f'{bpm:g}' for bpm in planned)} bpm: {who}); jackd realtime -d dummy "
          f"-r {RATE} -p {PERIOD} ({1000 * PERIOD / RATE:.2f} ms period)")
    if args.ordinary_priority:
        print("ensembles run without CAP_SYS_NICE: their MIDI senders at ordinary priority (a diagnosis)")
    expected = sum(quarters) * STEPS
    rows = []
    for condition, run in results.items():
        paired = run.partnered_offsets()
        rows.append([condition, f"{len(run.onsets['a'])}/{expected}", f"{len(run.onsets['b'])}/{expected}",
                     str(len(run.offsets_ms)), *spread(run.offsets_ms),
                     str(len(run.offsets_ms) - len(paired)), *spread(paired), str(run.failed)])
    print_table(["condition", "A notes/sent", "B notes/sent", "B measured", "offset p50 ms", "p99 ms",
                 "max ms", "no A partner", "partnered p50 ms", "p99 ms", "max ms", "failed cycles"], rows)
    print("offset = a B note-on's arrival at the synth - the nearest A note-on's (JACK's stamps), over the "
          "B note-ons while both play; notes = note-ons that arrived, of those the scripts play; no A "
          "partner = B note-ons whose nearest A note-on is 3/4 of a step away or more (its A note was lost: "
          "free-running ones are at most half a step apart); partnered = the others; failed cycles = JACK "
          f"cycles whose graph did not finish in time ({seconds / (PERIOD / RATE):.0f} cycles a run), in "
          "which MIDI may be lost or late")
    ours = results["linked"]
    everything_ok = bool(ours.offsets_ms) and all(code == 0 for code in ours.codes.values())
    verdict(f"linked p99 <= {TARGET_P99_MS:g} ms (realtime jackd), every B note-on",
            everything_ok and float(np.percentile(ours.offsets_ms, 99)) <= TARGET_P99_MS)
    paired = ours.partnered_offsets()
    verdict(f"linked p99 <= {TARGET_P99_MS:g} ms (realtime jackd), B note-ons with an A partner",
            everything_ok and bool(paired) and float(np.percentile(paired, 99)) <= TARGET_P99_MS)

if __name__ == "__main__":
    main()

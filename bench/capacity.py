"""Capacity: how many agents live Glicol renders in real time, with no underrun, at 44.1 and 48 kHz.

Each trial is one `play`-like performance in a child process: a Runner with RealtimeClock and the
live Glicol output (GlicolAudioOutput, as `--to glicol` makes it) on a realtime jackd
(`jackd -d dummy -r RATE -p 256`, SCHED_FIFO as on stage; the tests' --no-realtime server misses
cycles of its own under load), playing N agents (tempo 140, a 16-step seed of 0.25 beats, every
agent spawned at the first phrase, saw voice, the heaviest) for about SECONDS after the spawns.
A trial passes when the output counts no underrun at all: none with nothing rendered in time
(ours) and none reported by the device (a callback kept from the GIL, or a missed period). A
failing count is tried once more before it counts as failed (the machine is shared).

"before" is the code of commit e538e67 (before issue #19), extracted with `git archive` into a
temporary directory and run from there, in the same run; at 48 kHz it cannot open the device.
The configurations climb a ladder of agent counts together, each count played by each of them
back to back, so that the machine's moods (other processes on its 2 cores) fall on all alike; a
configuration stops at its first failing count. Beside the capacity, the output's own estimate
(the code now): how many agents in all its headroom would let a performer spawn, measured at the
highest count that passed (room_for).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchlib import print_table

# tests/support/services.py starts and cleans up a real jackd (dummy driver, no mocks).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.services import Jack

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

BEFORE = "e538e67"
RATES = (44100, 48000)
PERIOD = 256
TEMPO, STEP = 140.0, 0.25
SEED = "C4 D4 E4 G4 A4 G4 E4 D4 C4 E4 G4 C5 B4 G4 E4 D4"
PHRASE_SECONDS = 16 * STEP * 60.0 / TEMPO
LADDER = (32, 48, 64, 72, 80, 88, 96, 104, 112, 128, 160, 192, 224, 256)
MAX_AGENTS = 256  # ensemble's limit


# -- one trial, in a child process whose `ensemble` is the code under test ------------------------

def trial(agents: int, seconds: float) -> dict[str, object]:
    import logging

    from ensemble.clock import RealtimeClock
    from ensemble.errors import UserError
    from ensemble.glicol.soundcard import GlicolAudioOutput
    from ensemble.performance.runner import Runner
    from ensemble.performance.script import parse_script
    from ensemble.performance.sources import script_source
    from ensemble.realtime import prepare_interpreter

    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    logger = logging.getLogger("ensemble")
    logger.addHandler(Collect())
    logger.setLevel(logging.INFO)
    logger.propagate = False
    spawns = [f"spawn {min(64, agents - done)}" for done in range(0, agents, 64)]
    phrases = 1 + math.ceil(seconds / PHRASE_SECONDS)
    script = "\n".join([f"tempo {TEMPO:g}", f"step {STEP:g}", f"seed {SEED}", *spawns, f"wait {phrases}"])
    prepare_interpreter()  # as the CLI does before a live performance
    output = GlicolAudioOutput()
    error = None
    try:
        Runner(script_source(parse_script(script, "bench"), 0, "bench"), [output], RealtimeClock()).run()
    except UserError as failure:
        error = str(failure)
    stats = output.stats
    headroom = getattr(output, "headroom", None)  # the code before had none
    result: dict[str, object] = {
        "agents": agents, "error": error, "seconds": stats.callbacks * stats.budget,
        "starved": stats.starved, "reported": stats.underflows,
        "load": None if headroom is None else headroom.load,
        "room": None if headroom is None else _room(headroom),
        "messages": [m for m in messages if m.startswith("glicol: no audio")][:1],
    }
    sounddevice = sys.modules.get("sounddevice")
    if sounddevice is not None:
        sounddevice._terminate()  # let go of JACK while it is still up
    return result


def _room(headroom: object) -> int:
    """The most agents in all the output would accept now (room_for says None)."""
    count = 0
    while count < MAX_AGENTS and headroom.room_for(count + 1) is None:  # type: ignore[attr-defined]
        count += 1
    return count


# -- the parent: servers, the ladder, the table ------------------------------------------------------

@dataclass
class Run:
    agents: int
    passed: bool
    seconds: float
    underruns: str
    load: float | None
    room: int | None
    error: str | None


def run_trial(code: Path, rate: int, agents: int, seconds: float, jack: Jack) -> Run:
    env = {**jack.env, "PYTHONPATH": str(code)}
    command = [sys.executable, str(HERE / "capacity.py"), "--trial", str(agents), "--seconds", str(seconds)]
    child = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120 + seconds,
                           check=False)
    lines = [line for line in child.stdout.splitlines() if line.startswith("{")]
    if child.returncode != 0 or not lines:
        return Run(agents, False, 0.0, "-", None, None, f"exit {child.returncode}: {child.stderr[-300:]}")
    found = json.loads(lines[-1])
    if found["error"]:
        why = found["messages"][0] if found["messages"] else found["error"]
        return Run(agents, False, 0.0, "-", None, None, why)
    starved, reported = found["starved"], found["reported"]
    return Run(agents, starved + reported == 0, found["seconds"], f"{starved}+{reported}", found["load"],
               found["room"], None)


@dataclass
class Climb:
    """One configuration's way up the ladder."""

    label: str
    code: Path
    rate: int
    runs: list[Run]
    stopped: bool = False

    @property
    def best(self) -> Run | None:
        return max((run for run in self.runs if run.passed), key=lambda run: run.agents, default=None)

    @property
    def failed(self) -> Run | None:
        """The run at the count where it stopped (its second try)."""
        return self.runs[-1] if self.stopped and self.runs and not self.runs[-1].error else None


def climb(climbs: list[Climb], jacks: dict[int, Jack], seconds: float) -> None:
    for agents in LADDER:
        for this in climbs:
            if this.stopped:
                continue
            for _ in range(2):  # a failure is confirmed once: the machine is shared
                run = run_trial(this.code, this.rate, agents, seconds, jacks[this.rate])
                this.runs.append(run)
                state = "ok" if run.passed else run.error or f"underruns {run.underruns}"
                print(f"  {this.label} {this.rate} Hz, {agents} agents: {state}", flush=True)
                if run.passed or run.error:
                    break
            this.stopped = not run.passed
        if all(this.stopped for this in climbs):
            return


def extract_before(directory: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", BEFORE], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(directory)], input=archive.stdout, check=True)
    return directory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds of playing per trial (default 5)")
    parser.add_argument("--trial", type=int, help=argparse.SUPPRESS)  # in the child: play this many agents
    args = parser.parse_args()
    if args.trial is not None:
        print(json.dumps(trial(args.trial, args.seconds)))
        return

    started = time.monotonic()
    print(f"load average at the start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory(prefix="capacity-") as temporary, contextlib.ExitStack() as servers:
        jacks: dict[int, Jack] = {rate: servers.enter_context(Jack(rate=rate, period=PERIOD, realtime=True))
                                  for rate in RATES}
        before = extract_before(Path(temporary))
        climbs = [Climb(label, code, rate, []) for rate in RATES
                  for label, code in (("before", before), ("now", ROOT))]
        climb(climbs, jacks, args.seconds)
    print(f"load average at the end: {os.getloadavg()[0]:.2f}; {time.monotonic() - started:.0f} s in all\n")

    print(f"live Glicol, realtime jackd dummy -p {PERIOD}, {args.seconds:g} s per trial, tempo {TEMPO:g}, "
          f"16 steps of {STEP:g} beat, saw voice; underruns = nothing rendered + reported by the device")
    rows = []
    for this in climbs:
        best, failed = this.best, this.failed
        if best is None:
            reason = this.runs[-1].error or "underruns even at the fewest"
            rows.append([this.label, f"{this.rate}", "fails", "-", "-", "-", "-", reason[:60]])
            continue
        rows.append([this.label, f"{this.rate}", str(best.agents), _load(best),
                     "-" if failed is None else f"{failed.agents} ({failed.underruns})",
                     "-" if failed is None else _load(failed),
                     "-" if best.room is None else str(best.room), ""])
    print_table(["code", "rate (Hz)", "agents, no underrun", "load there", "failing (underruns)",
                 "load there", "spawn allowed up to", "note"], rows)


def _load(run: Run) -> str:
    return "-" if run.load is None else f"{run.load:.0%}"


if __name__ == "__main__":
    main()

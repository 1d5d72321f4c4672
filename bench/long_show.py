"""A long show's memory: two hours at 64 agents, one phrase a second, faster than real time.

The show is driven as an offline render drives it (a Runner on a virtual clock, every phrase
handed to the outputs note by note), with one silent output and no audio engine. The performer
is busy all along: a change of settings every minute, of seed every five, a mute and an unmute
every two, and every ten minutes the last agent is killed and a new one spawned.

Memory is the process's resident set (VmRSS, read after a garbage collection and glibc's
malloc_trim, so that freed memory is not counted): when the set-up is done and the first
phrase played, after 10 minutes of show (600 phrases), and at the end. The figure that matters
is the growth per phrase after the first 10 minutes. Beside it, in the same run, the code as it
was before this work (commit BEFORE, extracted with `git archive` into a temporary directory),
each in a process of its own, both at once.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchlib import print_table, verdict

REPO = Path(__file__).resolve().parents[1]
BEFORE = "e538e67"  # the code before the long-show work
AGENTS = 64
PHRASES = 7200  # two hours of one-second phrases
TEN_MINUTES = 600
TARGET_BYTES = 2048  # growth per phrase after the first 10 minutes
MELODIES = ("C4 E4 G4 C5 B4 G4 D4 _", "A4 G4 E4 C4 D4 E4 G4 _")  # 8 steps of 1/8 s: one-second phrases


# -- one show, in a process of its own ---------------------------------------------------------------

def resident_bytes() -> int:
    """The resident set now, with garbage collected and free heap handed back to the system."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: the figure includes free heap
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


def show(agents: int, phrases: int) -> dict[str, Any]:
    """Play the show with the `ensemble` found first on sys.path; memory at the checkpoints."""
    import ensemble
    from ensemble import commands as cmd
    from ensemble.clock import VirtualClock
    from ensemble.outputs.base import Output
    from ensemble.performance.runner import Runner
    from ensemble.performance.sources import Source

    checkpoints = {1: "start", TEN_MINUTES: "10 min", phrases: "end"}
    memory: dict[str, int] = {}

    def changes(phrase: int) -> list[str]:
        """What the performer types before `phrase` (numbered from 0)."""
        typed = []
        if phrase % 60 == 30:
            typed.append(f"set all epsilon={0.1 + 0.05 * (phrase // 60 % 5):g}")
        if phrase % 300 == 150:
            typed.append(f"seed {MELODIES[phrase // 300 % 2]}")
        if phrase % 120 == 60:
            typed.append(f"mute a{phrase // 120 % agents}")
        if phrase % 120 == 100:
            typed.append("unmute all")
        return typed

    def play(session: Any) -> Iterator[Any]:
        for line in ("tempo 120", "step 0.25", f"seed {MELODIES[0]}",
                     "set all palette=major:C4-C5 epsilon=0.3 epsilon_decay=0.99", f"spawn {agents}"):
            session.submit(cmd.parse_command(line))
        for phrase in range(phrases):
            for line in changes(phrase):
                session.submit(cmd.parse_command(line))
            if phrase % TEN_MINUTES == TEN_MINUTES - 1:
                session.submit(cmd.parse_command(f"kill {session.chain.names[-1]}"))
                session.submit(cmd.parse_command("spawn 1"))
            yield session.next_phrase()
            if phrase + 1 in checkpoints:
                memory[checkpoints[phrase + 1]] = resident_bytes()

    runner = Runner(Source("long show", 1, phrases, play), [Output()], VirtualClock(), live=False, ear=None)
    started, cpu = time.perf_counter(), time.process_time()
    runner.run()
    return {"memory": memory, "seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
            "code": str(Path(ensemble.__file__).parent), "played": runner.conductor.phrases_played}


# -- the comparison ------------------------------------------------------------------------------------

def extract_before(folder: Path) -> Path:
    """The code at BEFORE, as `git archive BEFORE | tar -x -C folder` gives it."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", BEFORE], check=True, capture_output=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def start_show(code: Path, agents: int, phrases: int) -> subprocess.Popen[str]:
    """The show in a fresh interpreter that imports `ensemble` from `code`."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    return subprocess.Popen([sys.executable, __file__, "--show", str(code), "--agents", str(agents),
                             "--phrases", str(phrases)], env=env, stdout=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen[str], label: str) -> dict[str, Any]:
    out, _ = process.communicate()
    if process.returncode != 0:
        sys.exit(f"the {label} show failed (exit {process.returncode})")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    print(f"{label}: {result['played']} phrases in {result['seconds']:.0f} s ({result['cpu']:.0f} s of CPU), "
          f"with {result['code']}", flush=True)
    return result


def growth(result: dict[str, Any], phrases: int) -> float:
    memory = result["memory"]
    return (memory["end"] - memory["10 min"]) / (phrases - TEN_MINUTES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=AGENTS)
    parser.add_argument("--phrases", type=int, default=PHRASES, help="phrases of the show (one a second)")
    parser.add_argument("--before-phrases", type=int, default=PHRASES,
                        help="phrases of the show played by the code before this work")
    parser.add_argument("--show", type=Path, help=argparse.SUPPRESS)  # internal: play one show
    args = parser.parse_args()
    if args.show is not None:
        sys.path.insert(0, str(args.show))
        print(json.dumps(show(args.agents, args.phrases)))
        return
    for count in (args.phrases, args.before_phrases):
        if count <= TEN_MINUTES:
            parser.error(f"a show needs more than {TEN_MINUTES} phrases (10 minutes)")

    print(f"{args.agents} agents, one phrase a second: {args.phrases} phrases now, "
          f"{args.before_phrases} before ({BEFORE}), in two processes at once", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        before_code = extract_before(Path(folder))
        before = start_show(before_code, args.agents, args.before_phrases)
        after = start_show(REPO, args.agents, args.phrases)
        results = {"before": finish(before, "before"), "after": finish(after, "after")}
    phrases = {"before": args.before_phrases, "after": args.phrases}

    def mb(value: float) -> str:
        return f"{value / 1e6:.1f} MB"

    rows = []
    for label, result in results.items():
        memory, per_phrase = result["memory"], growth(result, phrases[label])
        rows.append([f"{label} ({phrases[label] / 3600:.2g} h)", mb(memory["start"]), mb(memory["10 min"]),
                     mb(memory["end"]), f"{per_phrase / 1024:.2f} KB", mb(per_phrase * 3600)])
    print()
    print_table(["code", "RSS at start", "after 10 min", "at the end", "growth/phrase after 10 min",
                 "per hour"], rows)
    verdict(f"growth after the first 10 minutes at most {TARGET_BYTES // 1024} KB per phrase",
            growth(results["after"], args.phrases) <= TARGET_BYTES)


if __name__ == "__main__":
    main()

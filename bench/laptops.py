"""Laptops: one 64-agent chain across four laptops (network namespaces), vs the same chain on one.

Four laptops l0..l3 (tests/support/laptops.py: network namespaces on a private bridge, veth
links), 16 agents each, one chain: on l0 a0 copies the seed and a1..a15 the agent before; l1
runs `spawn 16 follow l0/a15`, l2 follows l1/a15, l3 follows l2/a15. Each laptop is a process of
its own (laptop_driver.py): a real Session and Band (UDP, every datagram signed), composing a
phrase every PERIOD seconds on its own monotonic clock, with no sound and no Link (the Band's
beat_offset stays None: a laptop takes the newest share it has received). Each lists the laptops
before and after it as peers.

Phase. On one laptop, an agent's attempt in phrase k copies what its predecessor had learned by
the end of phrase k-1. For the same across laptops without a shared timeline, each laptop runs
half a phrase ahead of the one it follows: l(i) composes phrase k at T0 + k*PERIOD - i*PERIOD/2,
midway between l(i-1)'s phrases k-1 and k, so the newest share it has is that of phrase k-1,
with half a phrase (PERIOD/2) of margin on either side (and the laptops, which share this
machine's two cores, do not all compose at once). Before its phrase 0 every laptop shares
the melodies its agents start with (what a follower on one laptop copies in phrase 0). Every
laptop notes, before each phrase, which phrase the newest share it has belongs to: the table
says how many hand-offs were of the previous phrase, as on one laptop. `--aligned` (a diagnosis)
makes every laptop compose at the same moments instead: then a laptop's take races the share
its predecessor is composing.

Figures:
- hand-off: from a laptop's share being sent (right after its phrase is composed) to the share
  being in the next laptop's inbox (its receiving thread has put it there), p50/p99/max, paired
  by (sender, beat) on CLOCK_MONOTONIC, which every namespace shares; and from the attempt's
  start (the phrase's composition beginning) to the same moment.
- bytes per agent per phrase: the share datagram's size (OSC payload, and with the 28 bytes of
  IPv4 and UDP headers) over its 16 agents; and every datagram sent (shares to both neighbours,
  pings and pongs) over every agent's phrases.
- phrases to converge end to end: the phrase after which the last agent (l3/a15; a63 on one
  laptop) has the seed as its greedy melody, and keeps it (for STAY phrases at least, to the end
  of the run); counted in phrases composed, as on one laptop.

Baselines, in the same run: the 64-agent chain in one Session (one laptop), over SEEDS random
seeds (it learns as fast as it can: phrases, not seconds, are compared); and the same four
sessions as on the laptops, in one process in lockstep, each taking the previous phrase's
melody of the one it follows: what the laptops give when every hand-off is on time. Laptop run r
uses the random seeds of lockstep r, so the two converge at the same phrase when every hand-off
was of the previous phrase. The convergence target compares the laptop runs' median with the
one-laptop median. A last run puts a lossy relay (tests/support/lossy_relay.py, in a fifth
namespace: LOSS loss, DELAY + up to JITTER delay, so reordering) between l1 and l2.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from benchlib import median, print_table, ratio, spread, verdict
from laptop_driver import SEED_MELODY, SETTINGS, laptop_session, last_agent_plays_seed

from ensemble.melody import Melody

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import pytest  # Laptops skips through pytest when namespaces cannot be made
from support.laptops import Laptops
from support.lossy_relay import RelayProcess

DRIVER = Path(__file__).resolve().parent / "laptop_driver.py"
NAMES = ("l0", "l1", "l2", "l3")
RELAY = "relay"
AGENTS = 16  # a laptop
LAST = f"a{AGENTS - 1}"
PERIOD = 0.3  # seconds between phrases on every laptop
STAY = 8  # phrases the last agent must keep the seed for the chain to count as converged
MAX_PHRASES = 100  # a run's bound: 30 s of phrases
SEEDS, QUICK_SEEDS = 16, 6  # random seeds of the in-process baselines
RUNS, QUICK_RUNS = 3, 1  # clean laptop runs
LOSS, DELAY, JITTER = 0.1, 0.02, 0.01
LOSSY_HOP = 2  # the relay stands between l1 and l2
PORT = 7400
HEADERS = 28  # bytes of IPv4 (20) and UDP (8) headers a datagram
TARGET_P99_MS = 50.0
TARGET_RATIO = 1.2
READY_WITHIN = 60.0  # seconds for four drivers to start (imports on two busy cores)
END_WITHIN = 15.0


def laptop_seed(run: int, laptop: int) -> int:
    return 100 * run + laptop


def converged_at(oks: list[bool]) -> int | None:
    """Phrases composed up to the one from which the last agent kept the seed to the end (for
    STAY phrases at least); None if it did not."""
    streak = next((n for n, ok in enumerate(reversed(oks)) if not ok), len(oks))
    return len(oks) - streak + 1 if streak >= STAY else None


# -- the baselines, in this process ------------------------------------------------------------------

def one_laptop(seed: int) -> int | None:
    """The 64-agent chain in one session."""
    session = laptop_session(seed, len(NAMES) * AGENTS, None)
    oks: list[bool] = []
    while len(oks) < MAX_PHRASES and converged_at(oks) is None:
        session.next_phrase()
        oks.append(last_agent_plays_seed(session))
    return converged_at(oks)


class Handed:
    """An in-process `outside`: the melody of the agent followed, handed over between phrases."""

    def __init__(self, target: str, melody: Melody) -> None:
        self.target, self.melody = target, melody

    def take(self, beat: float, wanted: set[str]) -> dict[str, Melody]:
        return {target: self.melody for target in wanted if target == self.target}

    def share(self, beat: float, melodies: dict[str, Melody]) -> None:
        pass


def lockstep(run: int) -> int | None:
    """The laptops' four sessions in one process, each taking the previous phrase's melody of
    the one it follows."""
    sessions = [laptop_session(laptop_seed(run, i), AGENTS, follows(i)) for i in range(len(NAMES))]
    oks: list[bool] = []
    while len(oks) < MAX_PHRASES and converged_at(oks) is None:
        shared = [session.chain.greedy_melodies()[LAST] for session in sessions]  # the previous phrase's
        for i, session in enumerate(sessions[1:], start=1):
            session.outside = Handed(f"{NAMES[i - 1]}/{LAST}", shared[i - 1])
        for session in sessions:
            session.next_phrase()
        oks.append(last_agent_plays_seed(sessions[-1]))
    return converged_at(oks)


def follows(laptop: int) -> str | None:
    return None if laptop == 0 else f"{NAMES[laptop - 1]}/{LAST}"


# -- the laptops -------------------------------------------------------------------------------------

@dataclass
class LaptopRun:
    label: str
    phrases: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)
    relay: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def converged(self) -> int | None:
        return converged_at([event["last_ok"] for event in self.phrases.get(NAMES[-1], [])])

    def handoffs(self, hops: set[int]) -> tuple[list[float], list[float]]:
        """Milliseconds from a share sent, and from its phrase's start, to the share in the next
        laptop's inbox, over the hops (1: l0 -> l1, ...) asked for."""
        sent_ms, attempt_ms = [], []
        for hop in sorted(hops):
            sender, receiver = NAMES[hop - 1], NAMES[hop]
            if sender not in self.summaries or receiver not in self.summaries:
                continue
            sent = dict(tuple(entry) for entry in self.summaries[sender]["sent"])
            began = {event["beat"]: event["began"] for event in self.phrases[sender]}
            for who, beat, _, arrived in self.summaries[receiver]["received"]:
                if who == sender and beat in sent:
                    sent_ms.append(1e3 * (arrived - sent[beat]))
                    if beat in began:
                        attempt_ms.append(1e3 * (arrived - began[beat]))
        return sent_ms, attempt_ms

    def behind(self, hops: set[int]) -> Counter[int]:
        """Per phrase taken over the hops asked for: how many phrases back the newest share was."""
        return Counter(event["behind"] for hop in hops for event in self.phrases.get(NAMES[hop], [])
                       if event["behind"] is not None)

    def share_size(self) -> float:
        """Bytes of one share datagram (all are one datagram of AGENTS melodies here)."""
        count = sum(summary["datagrams"].get("share", 0) for summary in self.summaries.values())
        size = sum(summary["bytes"].get("share", 0) for summary in self.summaries.values())
        return size / count if count else float("nan")

    def bytes_per_agent_phrase(self) -> float:
        """Every byte every laptop sent, over every agent's phrases."""
        total = sum(sum(summary["bytes"].values()) for summary in self.summaries.values())
        agent_phrases = sum(AGENTS * len(events) for events in self.phrases.values())
        return total / agent_phrases if agent_phrases else float("nan")

    def late_ms(self) -> list[float]:
        return [1e3 * (event["began"] - event["due"]) for events in self.phrases.values() for event in events]

    def compose_ms(self) -> list[float]:
        return [1e3 * (event["composed"] - event["began"]) for events in self.phrases.values()
                for event in events]


def read_lines(name: str, stream: IO[str], lines: queue.Queue[tuple[str, dict[str, Any] | None]]) -> None:
    for line in stream:
        try:
            lines.put((name, json.loads(line)))
        except json.JSONDecodeError:
            lines.put((name, {"event": "noise", "line": line.rstrip()}))
    lines.put((name, None))


def run_laptops(lan: Laptops, label: str, run: int, port: int, folder: Path, lossy: bool,
                period: float, stagger: float) -> LaptopRun:
    """One run of the four drivers (and the relay when `lossy`), until the last agent has kept
    the seed for STAY phrases or MAX_PHRASES have gone by. Laptop i composes phrase k at
    T0 + (k - i * `stagger`) * `period`."""
    result = LaptopRun(label)
    listen = {name: (lan[name].address, port) for name in NAMES}
    peers: dict[str, list[tuple[str, int]]] = {
        name: [listen[other] for other in NAMES[max(0, i - 1):i + 2] if other != name]
        for i, name in enumerate(NAMES)}
    relay = None
    if lossy:
        before, after = NAMES[LOSSY_HOP - 1], NAMES[LOSSY_HOP]
        address = lan[RELAY].address
        relay = RelayProcess(lan[RELAY], listen[before], listen[after], (address, port), (address, port + 1),
                             loss=LOSS, delay=DELAY, jitter=JITTER, seed=run).start()
        peers[before] = [relay.listen_a if peer == listen[after] else peer for peer in peers[before]]
        peers[after] = [relay.listen_b if peer == listen[before] else peer for peer in peers[after]]
    lines: queue.Queue[tuple[str, dict[str, Any] | None]] = queue.Queue()
    drivers: dict[str, subprocess.Popen[str]] = {}
    for i, name in enumerate(NAMES):
        argv = [sys.executable, str(DRIVER), "--name", name, "--listen", f"{listen[name][0]}:{port}",
                "--agents", str(AGENTS), "--rng-seed", str(laptop_seed(run, i)), "--period", str(period),
                "--offset", str(-i * stagger * period), "--max-phrases", str(MAX_PHRASES)]
        argv += [argument for peer in peers[name] for argument in ("--peer", f"{peer[0]}:{peer[1]}")]
        argv += [] if follows(i) is None else ["--follow", str(follows(i))]
        with open(folder / f"{label}-{name}.log", "w") as log:
            drivers[name] = lan[name].popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=log, text=True)
        threading.Thread(target=read_lines, args=(name, drivers[name].stdout, lines), daemon=True).start()
    try:
        if wait_for_all_ready(lines, result):
            start = time.monotonic() + 1.0 + (1 + 3 * stagger) * period  # l3's first share is the earliest
            for process in drivers.values():
                send(process, f"start {start!r}\n")
            follow_the_run(lines, result, start + (MAX_PHRASES + 2) * period + 10.0)
    finally:
        for process in drivers.values():
            send(process, "stop\n", close=True)
        collect_summaries(lines, result, drivers)
        if relay is not None:
            result.relay = relay.stop()
    for name, process in drivers.items():
        said = (folder / f"{label}-{name}.log").read_text(errors="replace").strip()
        if process.returncode != 0:
            result.problems.append(f"{name} exited with {process.returncode}: {said[-1500:]}")
        elif said:
            result.problems.append(f"{name} said on stderr: {said[-500:]}")
    return result


def send(process: subprocess.Popen[str], text: str, close: bool = False) -> None:
    try:
        assert process.stdin is not None
        process.stdin.write(text)
        process.stdin.flush()
        if close:
            process.stdin.close()
    except (BrokenPipeError, ValueError):  # it has ended already: its exit code says how
        pass


def wait_for_all_ready(lines: queue.Queue[tuple[str, dict[str, Any] | None]], result: LaptopRun) -> bool:
    ready: set[str] = set()
    deadline = time.monotonic() + READY_WITHIN
    while ready != set(NAMES):
        try:
            name, event = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            result.problems.append(f"not ready within {READY_WITHIN:g} s: {sorted(set(NAMES) - ready)}")
            return False
        if event is None:
            result.problems.append(f"{name} ended before it was ready")
            return False
        if event["event"] == "ready":
            ready.add(name)
    return True


def follow_the_run(lines: queue.Queue[tuple[str, dict[str, Any] | None]], result: LaptopRun,
                   deadline: float) -> None:
    """Phrase lines in, until the chain has converged (and stayed), the last phrase, or `deadline`."""
    last = NAMES[-1]
    while time.monotonic() < deadline:
        try:
            name, event = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        if event is None:
            result.problems.append(f"{name} ended during the run")
            return
        if event["event"] == "phrase":
            result.phrases.setdefault(name, []).append(event)
            if name == last and (result.converged is not None or len(result.phrases[last]) >= MAX_PHRASES):
                return
    result.problems.append("the run did not end in time")


def collect_summaries(lines: queue.Queue[tuple[str, dict[str, Any] | None]], result: LaptopRun,
                      drivers: dict[str, subprocess.Popen[str]]) -> None:
    ended: set[str] = set()
    deadline = time.monotonic() + END_WITHIN
    while ended != set(drivers) and time.monotonic() < deadline:
        try:
            name, event = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        if event is None:
            ended.add(name)
        elif event["event"] == "phrase":
            result.phrases.setdefault(name, []).append(event)
        elif event["event"] == "summary":
            result.summaries[name] = event
    for name, process in drivers.items():
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            result.problems.append(f"{name} did not end within {END_WITHIN:g} s (ended with the laptops)")


# -- the report --------------------------------------------------------------------------------------

def phrases_text(values: list[int | None]) -> str:
    return ", ".join("never" if value is None else str(value) for value in values)


def settled(values: list[int | None]) -> list[int]:
    return [value for value in values if value is not None]


def behind_text(counts: Counter[int]) -> str:
    total = sum(counts.values())
    if not total:
        return "n/a"
    others = ", ".join(f"{count} of {back} back" for back, count in sorted(counts.items()) if back != 1)
    return f"{100 * counts[1] / total:.0f}% ({counts[1]}/{total}{'; ' + others if others else ''})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_RUNS} clean laptop run and {QUICK_SEEDS} baseline seeds "
                             f"(instead of {RUNS} and {SEEDS})")
    parser.add_argument("--period", type=float, default=PERIOD, help=f"seconds a phrase (default {PERIOD:g})")
    parser.add_argument("--aligned", action="store_true",
                        help="a diagnosis: every laptop composes at the same moments (no half-phrase "
                             "stagger), so a laptop's take races its predecessor's share")
    args = parser.parse_args()
    runs, seeds = (QUICK_RUNS, QUICK_SEEDS) if args.quick else (RUNS, SEEDS)
    stagger = 0.0 if args.aligned else 0.5
    if os.geteuid() != 0:
        raise SystemExit("the laptops are network namespaces: run this bench as root")
    began = time.monotonic()
    print(f"seed {SEED_MELODY}; settings: the defaults and {SETTINGS}; {len(NAMES)} laptops x {AGENTS} "
          f"agents; a phrase every {args.period:g} s; converged = the last agent's greedy melody is the "
          f"seed and stays so (>= {STAY} phrases); at most {MAX_PHRASES} phrases", flush=True)

    print(f"one laptop, {len(NAMES) * AGENTS} agents, {seeds} seeds ...", flush=True)
    alone = [one_laptop(seed) for seed in range(seeds)]
    print(f"the four sessions in lockstep in one process, {seeds} seeds ...", flush=True)
    stepped = [lockstep(seed) for seed in range(seeds)]

    clean: list[LaptopRun] = []
    lossy: LaptopRun | None = None
    with tempfile.TemporaryDirectory(prefix="ensemble-laptops-bench-") as temporary:
        folder = Path(temporary)
        try:
            with Laptops([*NAMES, RELAY]) as lan:
                for run in range(runs):
                    print(f"laptops, run {run + 1} of {runs} (load average {os.getloadavg()[0]:.2f}) ...",
                          flush=True)
                    clean.append(run_laptops(lan, f"run{run}", run, PORT + 10 * run, folder, False,
                                             args.period, stagger))
                print(f"laptops with a lossy relay between {NAMES[LOSSY_HOP - 1]} and {NAMES[LOSSY_HOP]} ...",
                      flush=True)
                lossy = run_laptops(lan, "lossy", 0, PORT + 10 * runs, folder, True, args.period, stagger)
        except (pytest.skip.Exception, pytest.fail.Exception) as error:
            raise SystemExit(f"no laptops: {error}") from None
    assert lossy is not None
    report(args.period, stagger, alone, stepped, clean, lossy)
    print(f"(bench took {time.monotonic() - began:.0f} s)")


def report(period: float, stagger: float, alone: list[int | None], stepped: list[int | None],
           clean: list[LaptopRun], lossy: LaptopRun) -> None:
    for run in [*clean, lossy]:
        for problem in run.problems:
            print(f"[{run.label}] {problem}")
        for name, summary in run.summaries.items():
            refused = {peer: counts for peer, counts in summary["refused"].items() if counts}
            if refused or summary["foreign"] or summary["messages"]:
                print(f"[{run.label} {name}] refused {refused}, foreign {summary['foreign']}, "
                      f"said {summary['messages']}")
    if lossy.relay is not None:
        print(f"[lossy] relay {NAMES[LOSSY_HOP - 1]} -> {NAMES[LOSSY_HOP]}: {lossy.relay['a_to_b']}; "
              f"back: {lossy.relay['b_to_a']}")

    hops = set(range(1, len(NAMES)))
    sent_ms = [ms for run in clean for ms in run.handoffs(hops)[0]]
    attempt_ms = [ms for run in clean for ms in run.handoffs(hops)[1]]
    behind = sum((run.behind(hops) for run in clean), Counter())
    late = [ms for run in clean for ms in run.late_ms()]
    compose = [ms for run in clean for ms in run.compose_ms()]
    size = median([run.share_size() for run in clean])
    laptops = [run.converged for run in clean]
    laptops_median = median(settled(laptops)) if settled(laptops) and None not in laptops else float("nan")
    alone_median = median(settled(alone)) if settled(alone) else float("nan")
    stepped_median = median(settled(stepped)) if settled(stepped) else float("nan")

    def span(values: list[int | None]) -> str:
        done = settled(values)
        never = f", {len(values) - len(done)} never" if len(done) < len(values) else ""
        return f"{min(done, default=0)}-{max(done, default=0)} over {len(values)} seeds{never}"

    def ms(values: list[float]) -> str:
        return " / ".join(spread(values))

    lossy_name = f"lossy relay {NAMES[LOSSY_HOP - 1]}->{NAMES[LOSSY_HOP]}"
    print()
    print_table(["measure", "4 laptops x 16 agents (veth)", "1 laptop x 64 agents, same run", "ratio"], [
        ["hand-off, share sent -> in next laptop's inbox, p50/p99/max ms",
         f"{ms(sent_ms)} (n={len(sent_ms)})", "(in memory)", ""],
        ["  attempt begun -> in next laptop's inbox, p50/p99/max ms", ms(attempt_ms), "", ""],
        ["  composing a phrase, p50/p99/max ms", ms(compose), "", ""],
        ["  phrase begun after its time, p50/p99/max ms", ms(late), "", ""],
        ["hand-offs of the previous phrase (as on one laptop)", behind_text(behind), "100%", ""],
        ["bytes/agent/phrase, share to one peer (payload / +IPv4+UDP)",
         f"{size / AGENTS:.1f} / {(size + HEADERS) / AGENTS:.1f} ({size:.0f} B a datagram)", "0", ""],
        ["  all sent: shares to both neighbours, pings, pongs",
         f"{median([run.bytes_per_agent_phrase() for run in clean]):.1f}", "0", ""],
        ["phrases to converge end to end, median (runs)", f"{laptops_median:g} ({phrases_text(laptops)})",
         f"{alone_median:g} ({span(alone)})", ratio(laptops_median, alone_median)],
        [f"  4 sessions in lockstep, in process (runs' seeds: {phrases_text(stepped[:len(clean)])})",
         f"{stepped_median:g} ({span(stepped)})", f"{alone_median:g}", ratio(stepped_median, alone_median)],
        [f"phrases to converge, {lossy_name} (run 1's seeds)", phrases_text([lossy.converged]),
         f"{alone_median:g}", "n/a" if lossy.converged is None else ratio(lossy.converged, alone_median)],
        ["  hand-offs through the relay, p50/p99/max ms", ms(lossy.handoffs({LOSSY_HOP})[0]), "", ""],
        ["  hand-offs through the relay of the previous phrase", behind_text(lossy.behind({LOSSY_HOP})),
         "", ""],
        ["  its other hand-offs, p50/p99/max ms", ms(lossy.handoffs(hops - {LOSSY_HOP})[0]), "", ""],
    ])
    ahead = "at the same moments" if stagger == 0 else f"l(i) {stagger:g} phrase ahead of l(i-1)"
    print(f"a phrase every {period:g} s on each laptop, {ahead}; runs: phrases counted on l3; laptop run r "
          f"has the random seeds of lockstep seed r; relay: {LOSS:.0%} loss, {DELAY * 1e3:g} ms + up to "
          f"{JITTER * 1e3:g} ms delay")
    p99 = float(spread(sent_ms)[1]) if sent_ms else float("inf")
    verdict(f"hand-off p99 <= {TARGET_P99_MS:g} ms on veth (got {p99:.2f} ms over {len(sent_ms)} hand-offs)",
            p99 <= TARGET_P99_MS)
    within = laptops_median / alone_median if laptops_median == laptops_median else float("inf")
    verdict(f"end-to-end convergence within {TARGET_RATIO:g}x of one laptop (got {laptops_median:g} vs "
            f"{alone_median:g} phrases: {within:.2f}x)", within <= TARGET_RATIO)
    verdict(f"the chain converges through the {lossy_name} (got {phrases_text([lossy.converged])} phrases)",
            lossy.converged is not None and not lossy.problems)


if __name__ == "__main__":
    main()

"""Live timing to SuperCollider: exact time tags and the send-ahead margin, vs. sending when due.

ours:  Runner (RealtimeClock, lookahead 0.1 s) -> SuperColliderOutput: each note is a bundle
       stamped with its due time (from logical time) + the output's latency, sent ~0.1 s early.
naive: the same performance with lookahead ~0 and the bundle unwrapped before sending: a plain
       /s_new leaves when the note is due, as tools without time tags do. We measure how late.

8 agents at tempo 140, 16 steps of 0.25 beat (up to 75 notes/s), against a real scsynth on a
JACK dummy server; idle, then with two CPU burner processes (one per core) beside it.
Each datagram is recorded with the Unix time just before it went into the socket.
"""

from __future__ import annotations

import argparse
import math
import re
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
from benchlib import logged, print_table, verdict
from pythonosc.osc_bundle import OscBundle

from ensemble.clock import Clock, RealtimeClock
from ensemble.events import TimedNote
from ensemble.performance.runner import Runner
from ensemble.performance.script import parse_script
from ensemble.performance.sources import script_source
from ensemble.realtime import prepare_interpreter
from ensemble.supercollider.server_output import SuperColliderOutput

# tests/support/services.py starts and cleans up real jackd and scsynth processes (no mocks); the
# bench reuses it instead of repeating that logic.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.services import Jack, Scsynth

TEMPO, STEP, AGENTS = 140.0, 0.25, 8
MELODY = "C4 D4 E4 G4 A4 G4 E4 D4 C4 E4 G4 C5 B4 G4 E4 D4"
PHRASE_SECONDS = 16 * STEP * 60.0 / TEMPO
LOOKAHEAD = 0.1
NAIVE_LOOKAHEAD = 1e-4  # the conductor hands the note over 0.1 ms before it is due: "when due"
NTP_DELTA = 2208988800  # seconds from 1900 (NTP epoch) to 1970 (Unix epoch)
BURNERS = 2  # one per core on this machine


def script_text(phrases: int) -> str:
    return "\n".join([f"tempo {TEMPO:g}", f"step {STEP:g}", f"seed {MELODY}", f"spawn {AGENTS}",
                      f"wait {phrases}"])


@dataclass
class Sent:
    beat: float  # the note's logical time
    at: float  # Unix time just before the datagram went into the socket
    datagram: bytes


class RecordingOutput(SuperColliderOutput):
    """Records every note's datagram and when it left; `naive` strips the bundle (no time tag)."""

    def __init__(self, port: int, naive: bool) -> None:
        super().__init__(port=port)
        self.naive = naive
        self.records: list[Sent] = []
        self._note: TimedNote | None = None

    def open(self, clock: Clock) -> None:
        super().open(clock)
        assert self._connection is not None
        real_send = self._connection.send

        def send(datagram: bytes) -> bool:
            note = self._note
            if note is not None and self.naive:
                datagram = OscBundle(datagram).content(0).dgram
            at = time.time()
            ok = real_send(datagram)
            if note is not None and ok:
                self.records.append(Sent(note.event.start, at, datagram))
            return ok

        # Wrapped after open: only the datagrams the output sends, not the handshake's.
        self._connection.send = send  # type: ignore[method-assign]

    def note(self, note: TimedNote) -> None:
        self._note = note
        try:
            super().note(note)
        finally:
            self._note = None


@dataclass
class Result:
    notes: int = 0  # sent
    dropped: int = 0
    late: int = 0  # ours: margin < 0; naive: sent after the due time
    margins_ms: list[float] = field(default_factory=list)  # ours: tag - latency - send time
    tag_errors_us: list[float] = field(default_factory=list)  # ours: tag - ideal grid
    lateness_ms: list[float] = field(default_factory=list)  # naive: send time - due time
    server_late: int = 0  # "late" lines scsynth printed during the run


def server_late_lines(log: Path) -> int:
    # scsynth prints "late 0.0xx" for each bundle that arrived after its time tag.
    text = log.read_text(errors="replace") if log.exists() else ""
    return len(re.findall(r"^late ", text, re.MULTILINE))


def perform(scsynth: Scsynth, phrases: int, naive: bool, messages: list[str]) -> Result:
    output = RecordingOutput(scsynth.port, naive)
    clock = RealtimeClock()
    source = script_source(parse_script(script_text(phrases), "bench"), 0, "bench")
    runner = Runner(source, [output], clock, lookahead=NAIVE_LOOKAHEAD if naive else LOOKAHEAD)
    session, conductor = runner.session, runner.conductor
    late_before = server_late_lines(scsynth.log)
    with logged(messages):
        runner.run()
    time.sleep(0.2)  # let scsynth flush its log
    # The ideal grid, exactly: beat 0 in Unix time (the clock's own mapping, read once when it
    # was made), plus logical time through the tempo map.
    origin = Fraction(clock.unix(conductor.origin))
    result = Result(notes=len(output.records), dropped=output.dropped,
                    server_late=server_late_lines(scsynth.log) - late_before)
    for sent in output.records:
        due = origin + Fraction(session.tempo.seconds(sent.beat))
        if naive:
            result.lateness_ms.append(1000 * (sent.at - float(due)))
            continue
        ntp = struct.unpack(">Q", sent.datagram[8:16])[0]  # raw tag: OscBundle's float drops digits
        tag = Fraction(ntp, 2**32) - NTP_DELTA
        result.tag_errors_us.append(float(1e6 * (tag - (due + Fraction(output.latency)))))
        result.margins_ms.append(1000 * (float(tag) - output.latency - sent.at))
    values = result.lateness_ms if naive else [-m for m in result.margins_ms]
    result.late = sum(v > 0 for v in values)
    return result


def start_burners() -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"], stdin=subprocess.DEVNULL)
            for _ in range(BURNERS)]


def stop_burners(burners: list[subprocess.Popen[bytes]]) -> None:
    for burner in burners:
        burner.kill()
        burner.wait()


def pct(values: list[float], q: float) -> str:
    return f"{np.percentile(values, q):.2f}" if values else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each run (default 60)")
    parser.add_argument("--quick", action="store_true", help="10 s runs")
    args = parser.parse_args()
    seconds = 10.0 if args.quick else args.seconds
    phrases = math.ceil(seconds / PHRASE_SECONDS)

    prepare_interpreter()  # as the CLI does before a live performance
    messages: list[str] = []
    results: dict[tuple[str, bool], Result] = {}
    with Jack(rate=44100, period=256) as jack, Scsynth(jack) as scsynth:
        for condition in ("idle", "loaded"):
            burners = start_burners() if condition == "loaded" else []
            try:
                for naive in (False, True):
                    label = f"{'naive' if naive else 'ours'} {condition}"
                    print(f"playing {label}: {phrases} phrases, {phrases * PHRASE_SECONDS:.1f} s", flush=True)
                    run_messages: list[str] = []
                    results[condition, naive] = perform(scsynth, phrases, naive, run_messages)
                    messages += [f"[{label}] {message}" for message in run_messages]
            finally:
                stop_burners(burners)
    for message in messages:
        print(message)

    print(f"\n{AGENTS} agents, tempo {TEMPO:g}, step {STEP:g}, {phrases} phrases per run; "
          f"ours: lookahead {LOOKAHEAD:g} s, naive: {NAIVE_LOOKAHEAD:g} s, no time tag")
    rows = []
    for condition in ("idle", "loaded"):
        ours, naive = results[condition, False], results[condition, True]
        errors = [abs(e) for e in ours.tag_errors_us]
        rows.append([
            condition, str(ours.notes), str(ours.late), pct(ours.margins_ms, 1), pct(ours.margins_ms, 50),
            f"{min(ours.margins_ms):.2f}" if ours.margins_ms else "n/a",
            f"{max(errors):.3f}" if errors else "n/a", str(sum(e > 1.0 for e in errors)),
            str(ours.server_late),
            str(naive.notes), str(naive.late), pct(naive.lateness_ms, 50), pct(naive.lateness_ms, 99),
            f"{max(naive.lateness_ms):.2f}" if naive.lateness_ms else "n/a",
        ])
    print_table(["condition", "ours bundles", "late", "margin p1 ms", "p50 ms", "min ms",
                 "|tag err| max us", "> 1 us", "scsynth late", "naive notes", "late", "lateness p50 ms",
                 "p99 ms", "max ms"], rows)
    dropped = {f"{'naive' if n else 'ours'} {c}": r.dropped for (c, n), r in results.items() if r.dropped}
    if dropped:
        print(f"notes dropped (server not ready): {dropped}")
    print("margin = time tag - latency - send time (ms ahead of the due time); tag err = time tag - "
          "(beat 0 in Unix time + logical time + latency), exact arithmetic on the raw NTP tag")
    idle, loaded = results["idle", False], results["loaded", False]
    met = idle.notes > 0 and loaded.notes > 0 and idle.late == 0 and loaded.late == 0
    verdict(f"0 late bundles at {LOOKAHEAD:g} s lookahead, idle and loaded "
            f"(got {idle.late} idle, {loaded.late} loaded)", met)


if __name__ == "__main__":
    main()

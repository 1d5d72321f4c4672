"""Live timing over JACK MIDI: note-on lateness at a synth's input, vs. sending when a tick fires.

ours:  Conductor (RealtimeClock, lookahead 0.1 s) -> MidiOutput("synth", "jack"): notes go into
       the MidiSender thread, which sleeps until just before each due time and waits closely.
naive: the same performance, but the notes wait for a 480-PPQN tick scheduler (isobar's
       default; 0.89 ms a tick at 140 BPM) that polls with 0.1 ms sleeps, as isobar's clock
       does, and on each tick sends every note due by then, at once, with mido. Its tick grid
       is aligned with beat 0, so every note falls exactly on a tick (as in isobar): the naive
       lateness is only its wake-up and sending, not tick quantization.

8 agents at tempo 140, 16 steps of 0.25 beat (up to 75 notes/s), over a real jackd
(`-d dummy -r 48000 -p 64`: a period is 1.33 ms); idle, then with two CPU burner processes
(one per core) beside it. A JACK MIDI input "synth" in this process notes `time.monotonic()`
in its callback; lateness = that arrival time - the note's due time (TimedNote.due). Both
approaches run with the sender's 0.5 ms GIL switch interval, so only the scheduling differs.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import math
import os
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import mido
import numpy as np
from benchlib import print_table, verdict

from ensemble.clock import Clock, RealtimeClock
from ensemble.conductor import Conductor
from ensemble.events import ARTICULATION, Phrase, TimedNote
from ensemble.midi import ports
from ensemble.outputs.base import Output
from ensemble.outputs.midi import FLUSH, MidiOutput
from ensemble.script import parse_script, script_phrases
from ensemble.session import Session

# tests/services.py starts and cleans up a real jackd (dummy driver, no mocks); the bench
# reuses it instead of repeating that logic.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from services import Jack

TEMPO, STEP, AGENTS = 140.0, 0.25, 8
MELODY = "C4 D4 E4 G4 A4 G4 E4 D4 C4 E4 G4 C5 B4 G4 E4 D4"
PHRASE_SECONDS = 16 * STEP * 60.0 / TEMPO
LOOKAHEAD = 0.1
RATE, PERIOD = 48000, 64
PPQN = 480  # isobar's default tick resolution
TICK = 60.0 / TEMPO / PPQN
POLL = 0.0001  # isobar's clock sleeps this long between looks at the time
ON_GRID = 1e-6  # seconds: float rounding between the tick grid and the conductor's due times
SYNTH = "synth"
BURNERS = 2  # one per core on this machine
TARGET_P99_MS, TARGET_MAX_MS = 2.0, 5.0

Played = tuple[float, int, int]  # (due, channel 0-15, note) of one note_on


def script_text(phrases: int) -> str:
    return "\n".join([f"tempo {TEMPO:g}", f"step {STEP:g}", f"seed {MELODY}", f"spawn {AGENTS}",
                      f"wait {phrases}"])


class Synth:
    """The JACK MIDI input every run plays into; notes when each note_on reached Python."""

    def __init__(self, midi: Any) -> None:
        self.arrivals: list[tuple[float, int, int]] = []  # (time.monotonic(), channel, note)
        self.port = midi.open_input(SYNTH, virtual=True, client_name=SYNTH)
        self.port.callback = self._received

    def _received(self, message: mido.Message) -> None:
        at = time.monotonic()  # first thing: whatever follows must not count as lateness
        if message.type == "note_on" and message.velocity > 0:
            self.arrivals.append((at, message.channel, message.note))

    def take(self) -> list[tuple[float, int, int]]:
        taken, self.arrivals = self.arrivals, []
        return taken


class RecordingMidi(MidiOutput):
    """Ours, unchanged; it only remembers each note's due time to match the arrivals."""

    def __init__(self) -> None:
        super().__init__(SYNTH, "jack")
        self.played: list[Played] = []

    def note(self, note: TimedNote) -> None:
        self.played.append((note.due, note.event.sound.channel - 1, note.event.note))
        super().note(note)


class TickOutput(Output):
    """The naive scheduler: notes wait in a queue until a tick fires after their due time."""

    name = "naive"

    def __init__(self) -> None:
        super().__init__()
        self.played: list[Played] = []
        self.lateness: list[float] = []  # seconds: send time - due, per note_on
        self._queue: list[tuple[float, int, mido.Message]] = []
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._grid: float | None = None  # clock time of tick 0 (beat 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, name="naive-ticks", daemon=True)
        self._port: Any = None

    def open(self, clock: Clock) -> None:
        midi = ports.backend("jack")
        self._port = ports.open_port(midi, ports.resolve(SYNTH, ports.output_names(midi)))
        self._thread.start()

    def phrase(self, phrase: Phrase, start: float) -> None:
        if self._grid is None:  # beat 0 is on a tick, as on isobar's timeline
            self._grid = start - phrase.start_beat * 60.0 / phrase.tempo

    def note(self, note: TimedNote) -> None:
        event, channel = note.event, note.event.sound.channel - 1
        self.played.append((note.due, channel, event.note))
        with self._lock:
            heapq.heappush(self._queue, (note.due, next(self._order),
                                         mido.Message("note_on", channel=channel, note=event.note,
                                                      velocity=event.velocity)))
            heapq.heappush(self._queue, (note.due + note.duration * ARTICULATION, next(self._order),
                                         mido.Message("note_off", channel=channel, note=event.note)))

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        with self._lock:  # what never got its tick: the note_offs, so nothing is left sounding
            left = [message for _, _, message in sorted(self._queue) if message.type == "note_off"]
            self._queue.clear()
        for message in left:
            self._port.send(message)
        time.sleep(FLUSH)  # JACK sends on its next period
        self._port.close()

    def _tick(self) -> None:
        tick = 0
        while not self._stop.is_set():
            now = time.monotonic()
            # Every tick whose time has come fires, late ones too (isobar's catch-up loop).
            while self._grid is not None and now >= self._grid + tick * TICK:
                self._fire(self._grid + tick * TICK)
                tick += 1
            time.sleep(POLL)

    def _fire(self, tick_time: float) -> None:
        with self._lock:
            due = []
            while self._queue and self._queue[0][0] <= tick_time + ON_GRID:
                due.append(heapq.heappop(self._queue))
        for when, _, message in due:
            if message.type == "note_on":
                self.lateness.append(time.monotonic() - when)
            self._port.send(message)


def match(played: list[Played], arrivals: list[tuple[float, int, int]]) -> tuple[list[float], int]:
    """Arrival - due per note_on (seconds), pairing in order within each (channel, note);
    and how many notes never arrived."""
    dues: dict[tuple[int, int], list[float]] = defaultdict(list)
    for due, channel, note in played:
        dues[channel, note].append(due)
    came: dict[tuple[int, int], list[float]] = defaultdict(list)
    for at, channel, note in arrivals:
        came[channel, note].append(at)
    lateness, missing = [], 0
    for key, key_dues in dues.items():
        times = came.get(key, [])
        missing += max(0, len(key_dues) - len(times))
        lateness += [at - due for due, at in zip(sorted(key_dues), times, strict=False)]
    return lateness, missing


def perform(naive: bool, phrases: int, synth: Synth, messages: list[str]) -> dict[str, Any]:
    session = Session(seed=0, on_message=messages.append)
    output: RecordingMidi | TickOutput = TickOutput() if naive else RecordingMidi()
    conductor = Conductor(script_phrases(parse_script(script_text(phrases), "bench"), session),
                          session.tempo, [output], RealtimeClock(), lookahead=LOOKAHEAD,
                          on_message=messages.append)
    synth.take()
    conductor.run()
    time.sleep(0.1)  # the last notes cross JACK's next period
    arrived, missing = match(output.played, synth.take())
    if naive:
        assert isinstance(output, TickOutput)
        sent = output.lateness
    else:
        assert isinstance(output, RecordingMidi) and output.sender is not None
        sent = output.sender.lateness
    return {"notes": len(output.played), "missing": missing, "arrival_ms": [1000 * v for v in arrived],
            "send_ms": [1000 * v for v in sent]}


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

    messages: list[str] = []
    results: dict[tuple[str, bool], dict[str, Any]] = {}
    with Jack(rate=RATE, period=PERIOD) as jack:
        # rtmidi's JACK API finds the server through the environment, for every port we open.
        for key in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER"):
            os.environ[key] = jack.env[key]
        synth = Synth(ports.backend("jack"))
        try:
            for condition in ("idle", "loaded"):
                burners = start_burners() if condition == "loaded" else []
                try:
                    for naive in (False, True):
                        label = f"{'naive' if naive else 'ours'} {condition}"
                        print(f"playing {label}: {phrases} phrases, {phrases * PHRASE_SECONDS:.1f} s",
                              flush=True)
                        run_messages: list[str] = []
                        results[condition, naive] = perform(naive, phrases, synth, run_messages)
                        messages += [f"[{label}] {message}" for message in run_messages]
                finally:
                    stop_burners(burners)
        finally:
            synth.port.close()
    for message in messages:
        print(message)

    print(f"\n{AGENTS} agents, tempo {TEMPO:g}, step {STEP:g}, {phrases} phrases per run; jackd dummy "
          f"-r {RATE} -p {PERIOD} ({1000 * PERIOD / RATE:.2f} ms period); ours: lookahead {LOOKAHEAD:g} s "
          f"+ sender thread; naive: {PPQN}-PPQN tick ({1000 * TICK:.2f} ms), {1000 * POLL:g} ms polls")
    rows = []
    for condition in ("idle", "loaded"):
        ours, naive = results[condition, False], results[condition, True]
        arrival, sent, naive_arrival = ours["arrival_ms"], ours["send_ms"], naive["arrival_ms"]
        rows.append([
            condition, f"{ours['notes']}/{ours['missing']}",
            pct(arrival, 50), pct(arrival, 99), f"{max(arrival):.2f}" if arrival else "n/a",
            pct(sent, 99), f"{max(sent):.2f}" if sent else "n/a",
            f"{naive['notes']}/{naive['missing']}",
            pct(naive_arrival, 50), pct(naive_arrival, 99), f"{max(naive_arrival):.2f}" if naive_arrival else "n/a",
            pct(naive["send_ms"], 99),
        ])
    print_table(["condition", "ours notes/lost", "arrival p50 ms", "p99 ms", "max ms", "send p99 ms",
                 "send max ms", "naive notes/lost", "arrival p50 ms", "p99 ms", "max ms", "send p99 ms"], rows)
    print("arrival = time.monotonic() in the synth input's callback - due time; send = when the "
          "note_on was handed to mido - due time (ours: the MidiSender's own `lateness`)")
    met = all(
        results[c, False]["arrival_ms"] and results[c, False]["missing"] == 0
        and np.percentile(results[c, False]["arrival_ms"], 99) <= TARGET_P99_MS
        and max(results[c, False]["arrival_ms"]) <= TARGET_MAX_MS
        for c in ("idle", "loaded")
    )
    verdict(f"ours p99 <= {TARGET_P99_MS:g} ms and max <= {TARGET_MAX_MS:g} ms, idle and loaded", met)


if __name__ == "__main__":
    main()

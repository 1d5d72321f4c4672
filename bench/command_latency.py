"""Commands heard at once: Enter to heard (sound-level) and Enter to landing (learning), live.

A Stage (what the REPL drives) plays two agents into a real JACK MIDI input at 120 bpm, with an
8-step and a 16-step seed (phrases of 2 s and 4 s). Commands are typed at random moments:
- `mute a1`: Enter -> the All Notes Off that ends a1's sound arrives at the input;
- `unmute a1`: Enter -> a1's next note_on arrives;
- `set a1 velocity=V`: Enter -> a1's first note_on with that velocity arrives;
  a1 plays a note on every step (0.25 s), so these two include the wait for the next step: beside
  them, "late by" is how long after the first step due after Enter + lookahead that note arrived
  (a few ms when the change was heard within the lookahead; a step or more when a note was missed);
- `set a0 alpha=X` (learning): Enter -> the start of the phrase it landed on (from the session's
  journal observer: that phrase's beat, on the conductor's time line).
Beside it, in the same run, the old behaviour: every command waits for the next phrase
boundary not yet composed, and phrases are composed a whole phrase ahead.

Arrivals are stamped when this process polls rtmidi's queue (every 0.5 ms), so they include
JACK's period (5.8 ms here) and the poll: what a synth would hear, give or take a millisecond.

Then the live Glicol output on the same jackd (the sound card's callback at 256 frames): the
stream it renders is kept, and listened to at a1's step grid (a1 plays C6-C7; a0 plays C2-C3 on a
triangle, whose faint harmonics stay out of a1's band):
- `mute a1`: Enter -> the last a1 note heard (its onset);
- `voice a1 tri` / `voice a1 square`: how late, against the first step due after Enter +
  lookahead, a1's first note in the new voice came (told apart by its third harmonic).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import mido
import numpy as np
import rtmidi
from benchlib import logged, print_table, verdict

from ensemble import commands as cmd
from ensemble.clock import RealtimeClock
from ensemble.dsp import SAMPLE_RATE
from ensemble.glicol.soundcard import GlicolAudioOutput
from ensemble.learning.chain import Attempt
from ensemble.midi.port_output import MidiOutput
from ensemble.realtime import prepare_interpreter
from ensemble.stage import Stage

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.services import Jack

TEMPO, STEP, LOOKAHEAD = 120.0, 0.5, 0.15
SEEDS = {8: "C4 E4 G4 C5 B4 G4 E4 D4", 16: "C4 E4 G4 C5 B4 G4 E4 D4 C4 D4 E4 F4 G4 A4 B4 C5"}
A1_CHANNEL = 1  # a1 plays on MIDI channel 2
SOUND_TARGET = 0.25  # s, p99
LEARNING_MARGIN = 0.25  # s beyond one phrase, p99
LATE_TARGET = 0.03  # s: a changed note arriving this late after its due time was not missed


class Synth:
    """A JACK MIDI input, polled: (arrival on the monotonic clock, message) of all it receives."""

    def __init__(self) -> None:
        self._midi = rtmidi.MidiIn(rtapi=rtmidi.API_UNIX_JACK, name="synth", queue_size_limit=1 << 16)
        self._midi.open_virtual_port("synth")
        self.received: list[tuple[float, mido.Message]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            while (item := self._midi.get_message()) is not None:
                self.received.append((time.monotonic(), mido.Message.from_bytes(item[0])))
            time.sleep(0.0005)

    def first_after(self, since: float, wanted: object, timeout: float) -> float | None:
        """Seconds from `since` to the first message after it that `wanted` accepts."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, message in list(self.received):
                if at > since and wanted(message):  # type: ignore[operator]
                    return at - since
            time.sleep(0.01)
        return None

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._midi.close_port()


@dataclass
class Landings:
    """The session's journal observer, kept by the bench: which beat each command landed on."""

    beats: dict[str, float] = field(default_factory=dict)

    def applied(self, phrase: int, beat: float, command: cmd.Command) -> None:
        self.beats[str(command)] = beat

    def composed(self, phrase: int, attempts: list[Attempt]) -> None:
        pass


def _enter(stage: Stage, line: str, old: bool) -> float:
    """Type `line` as the REPL would (old: it waits for the next boundary, as all commands did)."""
    entered = time.monotonic()
    if old:
        command = cmd.parse_command(line)
        assert command is not None
        stage.session.submit_for_next(command)
    else:
        stage.type(line)
    return entered


def perform(steps: int, old: bool, rounds: int, synth: Synth, rng: random.Random) -> dict[str, list[float]]:
    stage = Stage([MidiOutput("synth", "jack")], RealtimeClock(), seed=1, lookahead=LOOKAHEAD)
    if old:
        stage.conductor.compose_ahead = None  # a whole phrase ahead, as before
    landings = Landings()
    stage.session.observe(landings)
    for line in (f"tempo {TEMPO:g}", f"step {STEP:g}", f"seed {SEEDS[steps]}", "spawn 2",
                 "set all rests=off palette=major:C4-C5"):
        stage.session.submit(cmd.parse_command(line))  # type: ignore[arg-type]
    phrase = steps * STEP * 60.0 / TEMPO
    wait = 2 * phrase + 1.0
    found: dict[str, list[float]] = {"mute": [], "unmute": [], "velocity": [], "learning": [],
                                     "unmute late by": [], "velocity late by": []}
    step_seconds = STEP * 60.0 / TEMPO

    def late_by(since: float, heard: float | None) -> float:
        """Arrival of the first changed note against the first step due after the lookahead."""
        if heard is None:
            return np.nan
        origin = stage.conductor.origin
        due = origin + np.ceil((since + LOOKAHEAD - origin) / step_seconds) * step_seconds
        return since + heard - due
    stage.start()
    try:
        time.sleep(1.5 * phrase)
        for index in range(rounds):
            time.sleep(rng.uniform(0.2, phrase))
            since = _enter(stage, "mute a1", old)
            heard = synth.first_after(since, lambda m: m.type == "control_change" and m.control == 123
                                      and m.channel == A1_CHANNEL, wait)
            found["mute"].append(np.nan if heard is None else heard)
            time.sleep(rng.uniform(0.2, phrase))
            since = _enter(stage, "unmute a1", old)
            heard = synth.first_after(since, lambda m: m.type == "note_on" and m.channel == A1_CHANNEL, wait)
            found["unmute"].append(np.nan if heard is None else heard)
            found["unmute late by"].append(late_by(since, heard))
            time.sleep(rng.uniform(0.2, phrase))
            velocity = 40 + index % 2 * 50
            since = _enter(stage, f"set a1 velocity={velocity}", old)
            heard = synth.first_after(since, lambda m, v=velocity: m.type == "note_on"  # type: ignore[misc]
                                      and m.channel == A1_CHANNEL and m.velocity == v, wait)
            found["velocity"].append(np.nan if heard is None else heard)
            found["velocity late by"].append(late_by(since, heard))
            time.sleep(rng.uniform(0.2, phrase))
            line = f"set a0 alpha={0.5 + index % 4 / 10:g}"
            since = _enter(stage, line, old)
            deadline = time.monotonic() + wait
            while line not in landings.beats and time.monotonic() < deadline:
                time.sleep(0.01)
            beat = landings.beats.pop(line, None)
            landed = None if beat is None else stage.conductor.origin + stage.session.tempo.seconds(beat)
            found["learning"].append(np.nan if landed is None else landed - since)
    finally:
        stage.stop()
    return found


class Tap(GlicolAudioOutput):
    """The live Glicol output, keeping every chunk it renders (sample 0 plays at the first
    callback's DAC time, `_first_sample_time`)."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[np.ndarray] = []
        self._audio: np.ndarray | None = None  # the chunks joined, once the performance is over

    def _render_chunk(self) -> np.ndarray:
        chunk = super()._render_chunk()
        self.chunks.append(chunk[:, 0].copy())
        return chunk

    def a1_at(self, due: float) -> tuple[float, float]:
        """How loud a note of a1's range starting at clock time `due` is, and its third harmonic's
        share (strong for a square, faint for a triangle)."""
        first = self._first_sample_time
        if self._audio is None:
            self._audio = np.concatenate(self.chunks) if self.chunks else np.zeros(0)
        audio = self._audio
        if first is None:
            return 0.0, 0.0
        start = round((due - first) * SAMPLE_RATE) + 220  # 5 ms into the note
        segment = audio[start: start + 1540] if start >= 0 else np.zeros(0)
        if len(segment) < 1540:
            return 0.0, 0.0
        spectrum = np.abs(np.fft.rfft(segment * np.hanning(len(segment))))
        freqs = np.fft.rfftfreq(len(segment), 1 / SAMPLE_RATE)
        high = (freqs > 1000) & (freqs < 2200)  # a1's fundamentals (a0's harmonics are weak there)
        peak = int(np.flatnonzero(high)[np.argmax(spectrum[high])])
        third = spectrum[max(0, 3 * peak - 2): 3 * peak + 3].max() / max(spectrum[peak], 1e-9)
        return float(spectrum[peak]), float(third)


def perform_glicol(steps: int, old: bool, rounds: int, rng: random.Random) -> dict[str, list[float]]:
    tap = Tap()
    stage = Stage([tap], RealtimeClock(), seed=1, lookahead=LOOKAHEAD)
    if old:
        stage.conductor.compose_ahead = None
    for line in (f"tempo {TEMPO:g}", f"step {STEP:g}", f"seed {SEEDS[steps]}", "spawn 2",
                 "set all rests=off", "set a0 palette=major:C2-C3 voice=tri",
                 "set a1 palette=major:C6-C7 voice=square"):
        stage.session.submit(cmd.parse_command(line))  # type: ignore[arg-type]
    phrase = steps * STEP * 60.0 / TEMPO
    step_seconds = STEP * 60.0 / TEMPO
    found: dict[str, list[float]] = {"glicol mute": [], "glicol voice late by": []}
    events: list[tuple[str, float]] = []
    stage.start()
    try:
        time.sleep(1.5 * phrase)
        for index in range(rounds):
            time.sleep(rng.uniform(0.3, phrase))
            events.append(("mute", _enter(stage, "mute a1", old)))
            time.sleep(rng.uniform(0.3, phrase) + (2 * phrase if old else 0.5))
            events.append(("unmute", _enter(stage, "unmute a1", old)))
            time.sleep(rng.uniform(0.3, phrase) + (2 * phrase if old else 0.5))
            voice = "tri" if index % 2 == 0 else "square"
            events.append((voice, _enter(stage, f"voice a1 {voice}", old)))
        time.sleep(2 * phrase + 0.5)
    finally:
        stage.stop()
    origin = stage.conductor.origin

    def grid_from(t: float) -> list[float]:
        first_step = np.ceil((t - origin) / step_seconds)
        return [origin + (first_step + k) * step_seconds for k in range(int(3 * phrase / step_seconds))]

    ends = [at for _, at in events[1:]] + [events[-1][1] + 3 * phrase]
    # a1 is heard where its band is a fifth as loud as a1's notes before the first command: a0's
    # triangle leaves a little there too.
    level = float(np.median([tap.a1_at(due)[0] for due in grid_from(origin)[:4 * steps // 3]]))

    def heard_at(due: float) -> bool:
        return tap.a1_at(due)[0] > 0.2 * level

    for (kind, since), until in zip(events, ends, strict=True):
        if kind == "mute":  # the last a1 note heard after Enter, before the unmute that follows
            heard = [due for due in grid_from(since) if due < until and heard_at(due)]
            found["glicol mute"].append((heard[-1] - since) if heard else 0.0)
        elif kind in ("tri", "square"):
            target_due = grid_from(since + LOOKAHEAD)[0]
            changed = next((due for due in grid_from(since) if heard_at(due)
                            and (tap.a1_at(due)[1] < 0.2) == (kind == "tri")), None)
            found["glicol voice late by"].append(np.nan if changed is None else changed - target_due)
    return found


def _p(values: list[float], q: float) -> str:
    clean = [v for v in values if not np.isnan(v)]
    missing = len(values) - len(clean)
    text = f"{np.percentile(clean, q):.3f}" if clean else "-"
    return text + (f" ({missing} missing)" if missing and q == 99 else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="commands of each kind per run (default 10)")
    parser.add_argument("--quick", action="store_true", help="3 of each")
    args = parser.parse_args()
    rounds = 3 if args.quick else args.rounds
    rng = random.Random(7)
    prepare_interpreter()  # as the CLI does for a live performance
    messages: list[str] = []
    results: dict[tuple[int, bool], dict[str, list[float]]] = {}
    with Jack() as jack, logged(messages):
        for key in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER"):
            os.environ[key] = jack.env[key]
        synth = Synth()
        try:
            for steps in SEEDS:
                for old in (False, True):
                    print(f"playing {steps} steps, {'old' if old else 'now'}: {rounds} rounds", flush=True)
                    results[steps, old] = perform(steps, old, rounds, synth, rng)
        finally:
            synth.close()
        for steps in SEEDS:
            for old in (False, True):
                mode = "old" if old else "now"
                print(f"playing Glicol, {steps} steps, {mode}: {rounds} rounds", flush=True)
                results[steps, old].update(perform_glicol(steps, old, rounds, rng))
        import sounddevice

        sounddevice._terminate()  # PortAudio lets go of JACK before the server stops
    print(f"\ntempo {TEMPO:g}, step {STEP:g} beat, lookahead {LOOKAHEAD:g} s, MIDI over JACK; seconds from "
          f"Enter; {rounds} commands of each kind per row")
    rows = []
    met = True
    for steps in SEEDS:
        phrase = steps * STEP * 60.0 / TEMPO
        for kind in ("mute", "unmute", "unmute late by", "velocity", "velocity late by", "learning",
                     "glicol mute", "glicol voice late by"):
            new, old = results[steps, False][kind], results[steps, True][kind]
            if kind in ("unmute", "velocity"):  # Enter to the next step's note: see "late by"
                rows.append([f"{steps} steps ({phrase:g} s phrase): {kind}", _p(new, 50), _p(new, 99),
                             _p(old, 50), _p(old, 99), ""])
                continue
            target = {"learning": phrase + LEARNING_MARGIN, "mute": SOUND_TARGET,
                      "glicol mute": SOUND_TARGET}.get(kind, LATE_TARGET)
            clean = [v for v in new if not np.isnan(v)]
            met &= len(clean) == len(new) and bool(clean) and float(np.percentile(clean, 99)) <= target
            rows.append([f"{steps} steps ({phrase:g} s phrase): {kind}", _p(new, 50), _p(new, 99),
                         _p(old, 50), _p(old, 99), f"{target:.2f}"])
    print_table(["command", "now p50", "now p99", "old p50", "old p99", "target p99"], rows)
    problems = [m for m in messages if "lost" in m or "fail" in m]
    if problems:
        print("messages:", *problems, sep="\n  ")
    verdict(f"sound-level p99 <= {SOUND_TARGET} s (mute), no note missed after the lookahead (late by <= "
            f"{LATE_TARGET} s); learning p99 <= one phrase + {LEARNING_MARGIN} s", met)


if __name__ == "__main__":
    main()

"""REPL latency: keystroke to echo in a real terminal, and commands landing on the announced phrase.

echo:     `python -m ensemble --to glicol` (the stage REPL, live Glicol audio) in a pseudo-terminal
          (TERM=xterm, 120x30) on a JACK dummy server (44.1 kHz, period 256). The bench types
          `tempo 140`, `step 0.25` and a 16-note seed, then single keys at a human pace (letters,
          then as many backspaces), timing each from os.write to the moment the pty returns its
          echo (the letter, or the erase sequence for a backspace). Baseline: the same keys in the
          same process before `spawn 64`, the REPL and the audio alone, nobody learning.
          A second process removes the audio output (`out remove glicol`) after `spawn 64`: the
          same 64 agents learning and the same toolbar, without the render thread beside them.
          With --late-phrases N, the first process types the keys again N phrases after spawn.
boundary: in this process, a Stage with a RealtimeClock and a GlicolAudioOutput on the same JACK,
          64 agents at 140 bpm. Commands (set alpha, mute, unmute, tempo 140/141) are typed at
          random moments, and again the moment the agents start learning for the next phrase
          (a command racing the boundary); each must be applied while the phrase the REPL
          announced ("at phrase N") is being composed.
toolbar:  prompt_toolkit recomputes the bottom toolbar on every redraw, so for every key: its cost
          with 64 agents, against the number of phrases played.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import random
import re
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from benchlib import logged, print_table, ratio, verdict

from ensemble import commands as cmd
from ensemble.clock import RealtimeClock, VirtualClock
from ensemble.glicol.soundcard import GlicolAudioOutput
from ensemble.learning.chain import Attempt
from ensemble.realtime import prepare_interpreter
from ensemble.stage import Stage

# tests/support/services.py starts and cleans up a real jackd (dummy driver, no mocks).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.services import Jack

AGENTS = 64
SETUP = ["tempo 140", "step 0.25", "seed C4 D4 E4 G4 A4 G4 E4 D4 C4 E4 G4 C5 B4 G4 E4 D4"]
PHRASE_SECONDS = 16 * 0.25 * 60.0 / 140.0
ROWS, COLUMNS = 30, 120
SETTLE = 3.0  # seconds of playing after spawn lands, before typing
ECHO_TARGET = 0.020  # seconds, p99 with 64 agents
ECHO_TIMEOUT = 10.0  # a stall of seconds on a loaded machine is a result; no echo at all is a failure
# No command starts with x, z or j, so the completion menu never opens; and none of these letters
# occurs in the toolbar or ends an escape code (m, h, l, capitals), so a match is the echo.
LETTERS = "xzjqkv"
BACKSPACE = b"\x7f"
ERASE = b"\x1b[K"  # prompt_toolkit clears the rest of the line after a deletion
CSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")
CPR_REQUEST, CPR_REPLY = b"\x1b[6n", b"\x1b[1;1R"
ANNOUNCED = re.compile(r"at phrase (\d+), ([\d.]+) s from now")
REPLIED = re.compile(rb"(s from now|next phrase)\r\n.*ensemble>", re.DOTALL)  # a reply, then a prompt
TOOLBAR_MARKS = [10, 50, 100, 200, 400]


class Terminal:
    """The `ensemble` REPL on a pseudo-terminal; everything it writes is kept."""

    def __init__(self, env: dict[str, str], cwd: str) -> None:
        self.fd, child = os.openpty()
        fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        self.process = subprocess.Popen([sys.executable, "-m", "ensemble", "--to", "glicol"], stdin=child,
                                        stdout=child, stderr=child, env=env, cwd=cwd, start_new_session=True)
        os.close(child)
        self.data = bytearray()
        self.closed = False
        self.cpr_answered = 0

    def read(self, deadline: float) -> None:
        """Take in what the REPL wrote, waiting for it until `deadline` (perf_counter time)."""
        if self.closed or not select.select([self.fd], [], [], max(0.0, deadline - time.perf_counter()))[0]:
            return
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            chunk = b""
        if not chunk:
            self.closed = True
            return
        self.data += chunk
        # A real terminal answers cursor position requests; unanswered, prompt_toolkit waits 2 s,
        # warns, and never shows the bottom toolbar (the height below the prompt stays unknown).
        requests = self.data.count(CPR_REQUEST)
        if requests > self.cpr_answered:
            os.write(self.fd, CPR_REPLY * (requests - self.cpr_answered))
            self.cpr_answered = requests

    def wait_for(self, found: Callable[[bytes], bool], since: int, timeout: float) -> float | None:
        """The perf_counter time at which data[since:] first satisfied `found`; None on timeout."""
        deadline = time.perf_counter() + timeout
        while not found(bytes(self.data[since:])):
            if self.closed or time.perf_counter() >= deadline:
                return None
            self.read(deadline)
        return time.perf_counter()

    def drain(self, seconds: float) -> None:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline and not self.closed:
            self.read(deadline)

    def enter(self, line: str) -> str:
        """Type a line and Enter; returns what the terminal showed, once the next prompt is up."""
        mark = len(self.data)
        os.write(self.fd, line.encode() + b"\r")
        if self.wait_for(lambda new: REPLIED.search(CSI.sub(b"", new)) is not None, mark, 10.0) is None:
            raise RuntimeError(f"no reply to {line!r}; the terminal shows:\n{self.text(mark)}")
        return self.text(mark)

    def text(self, since: int = 0) -> str:
        return CSI.sub(b"", bytes(self.data[since:])).decode(errors="replace")


def keystrokes(terminal: Terminal, count: int, rng: random.Random) -> list[tuple[float, float]]:
    """(write time, seconds to echo) for `count` keys: a few letters, then as many backspaces."""
    timings: list[tuple[float, float]] = []
    while len(timings) < count:
        length = rng.randint(3, 8)
        word = [rng.choice("xzj")] + [rng.choice(LETTERS) for _ in range(length - 1)]
        for key in [letter.encode() for letter in word] + [BACKSPACE] * length:
            mark = len(terminal.data)
            written = time.perf_counter()
            os.write(terminal.fd, key)
            if key == BACKSPACE:
                echoed = terminal.wait_for(lambda new: ERASE in new, mark, ECHO_TIMEOUT)
            else:
                echoed = terminal.wait_for(lambda new, key=key: key in CSI.sub(b"", new), mark, ECHO_TIMEOUT)
            if echoed is None:
                code = terminal.process.poll()
                state = "still running" if code is None else f"exited with {code}"
                raise RuntimeError(f"no echo of {key!r} in {ECHO_TIMEOUT:g} s, the REPL {state}; "
                                   f"it last wrote:\n{terminal.text()[-2000:]}")
            timings.append((written, echoed - written))
            # The next key comes 20-50 ms after this one, as a person types, or once this one echoed.
            terminal.drain(written + rng.uniform(0.020, 0.050) - time.perf_counter())
    return timings[:count]


@dataclass
class EchoRun:
    baseline: list[float] = field(default_factory=list)  # seconds, 0 agents
    busy: list[float] = field(default_factory=list)  # seconds, 64 agents
    since_spawn: list[float] = field(default_factory=list)  # seconds from the spawn phrase to each busy key
    late: list[float] = field(default_factory=list)  # seconds, 64 agents, --late-phrases after spawn
    toolbar_shown: bool = False
    exit_code: int | None = None
    traceback: bool = False
    exit_text: str = ""


def echo_run(jack: Jack, count: int, rng: random.Random, remove_audio: bool = False,
             late_phrases: int = 0) -> EchoRun:
    """Types into a real `ensemble` process: with 0 agents, then 64; then `quit`."""
    home = tempfile.mkdtemp(prefix="ensemble-bench-")
    terminal = Terminal({**jack.env, "TERM": "xterm", "XDG_DATA_HOME": home}, home)
    run = EchoRun()
    try:
        if terminal.wait_for(lambda new: b"ensemble>" in new, 0, 15.0) is None:
            raise RuntimeError(f"no prompt; the terminal shows:\n{terminal.text()}")
        for line in SETUP:
            terminal.enter(line)
        terminal.drain(2 * PHRASE_SECONDS)  # the setup lands: 140 bpm, 16 steps
        if not remove_audio:
            run.baseline = [latency for _, latency in keystrokes(terminal, count, rng)]
        match = ANNOUNCED.search(terminal.enter(f"spawn {AGENTS}"))
        if match is None:
            raise RuntimeError(f"no announced phrase for spawn; the terminal shows:\n{terminal.text()}")
        # The spawn phrase's start, to the reply's 0.1 s; at a steady tempo the rest follow.
        first_start = time.perf_counter() + float(match.group(2))
        if remove_audio:
            terminal.enter("out remove glicol")
        terminal.drain(float(match.group(2)) + SETTLE)
        timings = keystrokes(terminal, count, rng)
        run.busy = [latency for _, latency in timings]
        run.since_spawn = [written - first_start for written, _ in timings]
        if late_phrases:  # the toolbar's cost grows with the history: type again much later
            terminal.drain(first_start + late_phrases * PHRASE_SECONDS - time.perf_counter())
            run.late = [latency for _, latency in keystrokes(terminal, count, rng)]
        run.toolbar_shown = "140 bpm | phrase" in terminal.text()
        mark = len(terminal.data)
        os.write(terminal.fd, b"quit\r")
        run.exit_code = terminal.process.wait(timeout=20)
        terminal.drain(0.5)  # whatever it wrote on the way out
        run.traceback = "Traceback" in terminal.text()
        said = [line.strip() for line in terminal.text(mark).splitlines()]
        run.exit_text = " / ".join(line for line in said if line and "ensemble>" not in line)
        return run
    finally:
        if terminal.process.poll() is None:
            terminal.process.kill()
            terminal.process.wait()
        os.close(terminal.fd)
        shutil.rmtree(home, ignore_errors=True)


@dataclass
class Typed:
    kind: str  # "random" or "aimed"
    line: str
    announced: int  # phrase index (0-based) the reply named
    command: cmd.Command  # the object queued, to find when it was applied


def boundary_run(random_count: int, aimed_count: int,
                 rng: random.Random) -> tuple[list[tuple[Typed, int]], str]:
    """Commands typed into a Stage at random and at racy moments, each with the phrase it was applied in."""
    messages: list[str] = []
    stage = Stage([GlicolAudioOutput()], RealtimeClock())
    session, conductor = stage.session, stage.conductor
    queued: list[cmd.Command] = []
    applied: dict[int, int] = {}  # id(command) -> index of the phrase being composed as it was applied
    learning = threading.Event()
    submit, apply, step = session.submit, session.apply, session.chain.step

    # The bench's own hooks on this one Session: Stage.type hides which object it queued, only
    # apply knows when a command finally took effect, and the learning step is the moment
    # between taking the waiting commands and moving on to the next phrase.
    def noting_submit(command: cmd.Command, where: str | None = None) -> None:
        queued.append(command)
        submit(command, where)

    def noting_apply(command: cmd.Command) -> None:
        applied[id(command)] = session.phrase_index
        apply(command)

    def noting_step() -> list[Attempt]:
        learning.set()
        return step()

    session.submit, session.apply = noting_submit, noting_apply  # type: ignore[method-assign]
    session.chain.step = noting_step  # type: ignore[method-assign]
    typed: list[Typed] = []
    with logged(messages):  # the performance's diagnostics, for the summary
        stage.start()
        try:
            for line in [*SETUP, f"spawn {AGENTS}"]:
                stage.type(line)
            while session.phrase_index < 3 and not stage.finished.is_set():
                time.sleep(0.05)
            tempo = 140
            for number in range(random_count + aimed_count):
                kind = "random" if number < random_count else "aimed"
                if kind == "random":
                    time.sleep(rng.uniform(0.05, PHRASE_SECONDS))
                else:  # typed as the agents learn for the next phrase (a few ms per phrase)
                    learning.clear()
                    learning.wait(2 * PHRASE_SECONDS)
                agent = f"a{rng.randrange(AGENTS)}"
                line = rng.choice([f"set {agent} alpha=0.{rng.randint(1, 9)}", f"mute {agent}",
                                   f"unmute {agent}", f"tempo {tempo}"])
                if line.startswith("tempo"):
                    tempo = 281 - tempo  # 140, 141, 140, ...
                reply = stage.type(line)
                match = ANNOUNCED.search(reply)
                if match is None:
                    raise RuntimeError(f"{line!r} was not queued: {reply!r}")
                typed.append(Typed(kind, line, int(match.group(1)) - 1, queued[-1]))
            deadline = time.monotonic() + 3 * PHRASE_SECONDS
            while len(applied) < len(queued) and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            stage.stop()
    summary = (f"{conductor.phrases_played} phrases played, {conductor.timing.late} notes handed over late; "
               + "; ".join(messages))
    return [(entry, applied.get(id(entry.command), -1)) for entry in typed], summary


def toolbar_costs(marks: list[int]) -> list[tuple[int, float]]:
    """Seconds of one Stage.toolbar() with 64 agents (fastest of 15 calls), after each number of phrases."""
    stage = Stage([], VirtualClock())
    for line in [*SETUP, f"spawn {AGENTS}"]:
        stage.type(line)
    costs = []
    for phrases in range(1, max(marks) + 1):
        stage.session.next_phrase()
        stage.conductor.phrases_played = phrases
        if phrases in marks:
            times = []
            for _ in range(15):
                started = time.perf_counter()
                stage.toolbar()
                times.append(time.perf_counter() - started)
            costs.append((phrases, min(times)))
    return costs


def percentiles(latencies: list[float]) -> list[float]:
    return [float(np.percentile(latencies, q)) for q in (50, 99, 100)]


def ms(seconds: float) -> str:
    return f"{1000 * seconds:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="80 keys and 12 commands instead of 300 and 40")
    parser.add_argument("--late-phrases", type=int, default=0, metavar="N",
                        help="type the keys once more N phrases after spawn (1.7 s each; default: don't)")
    args = parser.parse_args()
    keys, random_count, aimed_count = (80, 8, 4) if args.quick else (300, 24, 16)
    prepare_interpreter()  # as the CLI does before a live performance (outputs no longer do)
    rng = random.Random(0)
    # Other processes on the machine take CPU from the REPL and its render thread: say how busy it was.
    load_before = os.getloadavg()[0]

    jack = Jack(rate=44100, period=256)
    # The children find JACK through these, and so does this process when GlicolAudioOutput
    # first imports sounddevice (PortAudio reads JACK_DEFAULT_SERVER then).
    os.environ.update(jack.env)
    with jack:
        print(f"typing {keys} keys into `ensemble --to glicol`, with 0 agents then {AGENTS}", flush=True)
        echo = echo_run(jack, keys, rng, late_phrases=args.late_phrases)
        print(f"typing {keys} keys into another, {AGENTS} agents after `out remove glicol`", flush=True)
        silent = echo_run(jack, keys, rng, remove_audio=True)
        print(f"typing {random_count + aimed_count} commands into a Stage with {AGENTS} agents", flush=True)
        commands, summary = boundary_run(random_count, aimed_count, rng)
        # PortAudio's JACK client must go while jackd is still up (see live_audio.py).
        sounddevice = sys.modules.get("sounddevice")
        if sounddevice is not None:
            sounddevice._terminate()
    toolbar = toolbar_costs(TOOLBAR_MARKS)

    print(f"\n{os.cpu_count()} CPUs; load average (1 min) {load_before:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after the live runs")
    print(f"\nkeystroke to echo, ms: {keys} keys per row, 20-50 ms apart, letters then backspaces; "
          f"toolbar on screen: {'yes' if echo.toolbar_shown else 'NO'}")
    base, busy = percentiles(echo.baseline), percentiles(echo.busy)
    rows = [["0 agents, live audio (baseline)", *map(ms, base), str(len(echo.baseline))],
            [f"{AGENTS} agents, live audio", *map(ms, busy), str(len(echo.busy))],
            [f"{AGENTS} / 0", *(ratio(b, a) for a, b in zip(base, busy, strict=True)), ""]]
    # The conductor composes the next phrase 0.15 s before a boundary, and the render thread
    # loads the new 64-chain program at it: are keys typed then slower?
    phases = np.array(echo.since_spawn) % PHRASE_SECONDS
    near = (phases > PHRASE_SECONDS - 0.3) | (phases < 0.15)
    for label, chosen in (("  keys from 0.3 s before to 0.15 s after a boundary", near),
                          ("  keys elsewhere in the phrase", ~near)):
        if chosen.any():
            rows.append([label, *map(ms, percentiles(list(np.array(echo.busy)[chosen]))), str(chosen.sum())])
    rows.append([f"{AGENTS} agents, audio output removed", *map(ms, percentiles(silent.busy)),
                 str(len(silent.busy))])
    if echo.late:
        rows.append([f"{AGENTS} agents, live audio, {args.late_phrases} phrases after spawn",
                     *map(ms, percentiles(echo.late)), str(len(echo.late))])
    print_table(["REPL", "p50", "p99", "max", "keys"], rows)

    played = [int(seconds // PHRASE_SECONDS) for seconds in echo.since_spawn + silent.since_spawn]
    print(f"\nStage.toolbar() with {AGENTS} agents, fastest call, ms (every redraw calls it; the keys above "
          f"were typed {min(played)}-{max(played)} phrases after spawn)")
    print_table(["phrases played", "toolbar"], [[str(phrases), ms(cost)] for phrases, cost in toolbar])

    print(f"\ncommands applied at the phrase the REPL announced ({summary})")
    rows, shares = [], []
    for kind, moment in (("random", "random moments"), ("aimed", "while the next phrase is composed")):
        chosen = [(entry, landed) for entry, landed in commands if entry.kind == kind]
        exact = sum(entry.announced == landed for entry, landed in chosen)
        rows.append([moment, str(len(chosen)), str(exact), f"{100 * exact / len(chosen):.0f}%"])
        shares.append(f"{exact}/{len(chosen)} {moment}")
    print_table(["typed at", "commands", "at the announced phrase", "share"], rows)
    for entry, landed in commands:
        if entry.announced != landed:
            where = "never applied" if landed < 0 else f"applied at phrase {landed + 1}"
            print(f"  {entry.line!r}: announced phrase {entry.announced + 1}, {where}")

    p99 = busy[1]
    verdict(f"keystroke to echo p99 <= {ms(ECHO_TARGET)} ms with {AGENTS} agents (got {ms(p99)} ms)",
            p99 <= ECHO_TARGET)
    exact = sum(entry.announced == landed for entry, landed in commands)
    verdict(f"100% of commands applied at the announced phrase (got {100 * exact / len(commands):.1f}%: "
            f"{', '.join(shares)})", exact == len(commands))
    for label, run in (("live audio", echo), ("audio removed", silent)):
        verdict(f"`quit` ends the REPL cleanly, {label} (exit code {run.exit_code}, "
                f"{'a' if run.traceback else 'no'} Traceback; it said: {run.exit_text})",
                run.exit_code == 0 and not run.traceback)


if __name__ == "__main__":
    main()

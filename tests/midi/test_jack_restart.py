"""The JACK server stopped and started again mid-performance, through the real `ensemble play`.

Our own port (`--to midi`) and a named one (`--to midi:synth`): one line when the server goes,
one when it is back, the performance goes on meanwhile (a SuperCollider output keeps playing),
and notes reach a listener on the new server afterwards. And a burst of messages after the
server went, more than RtMidi's ring holds, must not freeze the process.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import rtmidi
from support.jack_midi import Synth
from support.services import Jack, Scsynth
from support.waiting import join

from ensemble.midi.jack_server import SEND_BUDGET

# 16 notes a second per agent; far longer than a test takes: each ends it with Ctrl-C.
SCRIPT = "tempo 240\nstep 0.25\nseed C4 E4 G4 C5\nspawn 2\nset all rests=off\nwait 1000\n"
PATIENCE = 20.0  # seconds any one step may take on a loaded machine
NOISE = ("Cannot read socket", "CheckRes error", "JackSocketClientChannel", "Jack server was closed")


def wait_for_notes(synth: Synth, after: float) -> None:
    """Until a note-on arrives later than `after` (a time.monotonic() reading)."""
    deadline = time.monotonic() + PATIENCE
    while not any(at > after for at in synth.note_ons()):
        assert time.monotonic() < deadline, f"no note-on in {PATIENCE} s"
        time.sleep(0.02)


def connect_to_our_port() -> Synth:
    """A listener on ensemble's own port, once it is there."""
    probe = rtmidi.MidiIn(rtapi=rtmidi.API_UNIX_JACK, name="test-probe")
    try:
        deadline = time.monotonic() + PATIENCE
        while "ensemble:ensemble" not in probe.get_ports():
            assert time.monotonic() < deadline, f"no port ensemble:ensemble in {PATIENCE} s"
            time.sleep(0.05)
    finally:
        probe.delete()
    return Synth(connect_to="ensemble:ensemble")


class Performance:
    """`ensemble play` in a subprocess, its stderr read line by line as it comes."""

    def __init__(self, cwd: Path, jack: Jack, *destinations: str) -> None:
        (cwd / "s.ens").write_text(SCRIPT)
        command = [sys.executable, "-m", "ensemble", "play", "s.ens", "--midi-backend", "jack"]
        for destination in destinations:
            command += ["--to", destination]
        self.process = subprocess.Popen(command, cwd=cwd, env=jack.env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, start: str) -> None:
        """Until a line of stderr starts with `start`."""
        deadline = time.monotonic() + PATIENCE
        while not any(line.startswith(start) for line in self.lines):
            assert self.process.poll() is None, f"ensemble ended first: {self.lines}"
            assert time.monotonic() < deadline, f"no '{start}' in {PATIENCE} s: {self.lines}"
            time.sleep(0.02)

    def interrupt(self) -> tuple[int, str]:
        """Ctrl-C, as a performer ends a show; its exit code and what it printed on stdout."""
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=PATIENCE)
        join(self._reader, 5, "the stderr reader")
        assert self.process.stdout is not None
        return code, self.process.stdout.read()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=PATIENCE)


def _started_synths(scsynth: Scsynth, into: list[float], stop: threading.Event) -> threading.Thread:
    """Notes from the time each synth starts on scsynth (its /n_go notification)."""
    client = scsynth.client()
    client.send("/notify", 1)
    client.wait_for("/done", "/notify")

    def collect() -> None:
        with client:
            while not stop.is_set():
                try:
                    reply = client.receive(0.1)
                except TimeoutError:
                    continue
                if reply.address == "/n_go" and reply.params[4] == 0:  # a synth, not a group
                    into.append(time.monotonic())

    thread = threading.Thread(target=collect, daemon=True)
    thread.start()
    return thread


def _assert_told_once_each(lines: list[str], server: str) -> None:
    assert lines.count(f"midi: lost the JACK server '{server}'; the others play on, retrying") == 1, lines
    assert sum(line.startswith(f"midi: back on the JACK server '{server}'") for line in lines) == 1, lines
    assert not any(noise in line for line in lines for noise in NOISE), lines  # libjack kept quiet
    assert not any("Traceback" in line for line in lines), lines


def test_our_port_is_offered_again_after_a_jack_restart_and_sc_plays_on_meanwhile(
        jack_to_restart, scsynth, tmp_path):
    started: list[float] = []
    stop_collecting = threading.Event()
    collector = _started_synths(scsynth, started, stop_collecting)
    performance = Performance(tmp_path, jack_to_restart, "midi", f"sc:127.0.0.1:{scsynth.port}")
    try:
        listener = connect_to_our_port()
        wait_for_notes(listener, after=0)
        listener.close()
        jack_to_restart.stop()
        went = time.monotonic()
        performance.wait_for(f"midi: lost the JACK server '{jack_to_restart.name}'")
        time.sleep(0.5)  # away a while, as a restart by hand would be
        jack_to_restart.start()
        came = time.monotonic()
        performance.wait_for(f"midi: back on the JACK server '{jack_to_restart.name}'")
        listener = connect_to_our_port()
        wait_for_notes(listener, after=time.monotonic())
        listener.close()
        code, stdout = performance.interrupt()
    finally:
        performance.kill()
        stop_collecting.set()
        join(collector, 5, "the scsynth notification reader")
    assert code == 0 and stdout.startswith("played "), (code, stdout, performance.lines)
    assert any(went < at < came for at in started)  # SuperCollider played on while JACK was away
    _assert_told_once_each(performance.lines, jack_to_restart.name)


@pytest.mark.parametrize("ending", ["stopped", "killed"])
def test_a_named_port_is_connected_again_after_a_jack_restart(jack_to_restart, tmp_path, ending):
    synth = Synth("synth")
    performance = Performance(tmp_path, jack_to_restart, "midi:synth")
    try:
        wait_for_notes(synth, after=0)
        synth.close()
        if ending == "killed":  # as in a crash
            os.kill(jack_to_restart.process.pid, signal.SIGKILL)
        jack_to_restart.stop()  # (after a kill: clears what the dead server left)
        performance.wait_for(f"midi: lost the JACK server '{jack_to_restart.name}'")
        jack_to_restart.start()
        synth = Synth("synth")  # the synth comes back with its server
        recreated = time.monotonic()
        performance.wait_for(f"midi: back on the JACK server '{jack_to_restart.name}'")
        wait_for_notes(synth, after=recreated)
        synth.close()
        code, stdout = performance.interrupt()
    finally:
        performance.kill()
    assert code == 0 and stdout.startswith("played "), (code, stdout, performance.lines)
    _assert_told_once_each(performance.lines, jack_to_restart.name)


BURST = f"""
import sys, time
import mido
from ensemble.clock import RealtimeClock
from ensemble.midi.port_output import MidiOutput

clock = RealtimeClock()
output = MidiOutput(None, "jack")
output.open(clock)
print("open", flush=True)
sys.stdin.readline()  # the test stops the JACK server meanwhile
now = clock.now()
for _ in range({10 * SEND_BUDGET}):  # all due at once; RtMidi's ring holds some 2,300
    output.sender.schedule(now, mido.Message("note_on", note=60, velocity=1))
deadline = time.monotonic() + 10
while time.monotonic() < deadline and not (said := output.drain_messages()):
    time.sleep(0.01)
print(*said, sep="\\n", flush=True)
output.close()
print("closed", flush=True)
"""


def test_a_burst_after_the_server_went_does_not_freeze_the_process(jack_to_restart, tmp_path):
    """More messages than RtMidi's ring holds, sent after the server went: unguarded, RtMidi
    waits for room with the GIL held and the process freezes for good."""
    pipe = subprocess.PIPE
    process = subprocess.Popen([sys.executable, "-c", BURST], cwd=tmp_path, env=jack_to_restart.env,
                               stdin=pipe, stdout=pipe, stderr=pipe, text=True)
    try:
        assert process.stdout is not None and process.stdin is not None
        assert process.stdout.readline() == "open\n"
        jack_to_restart.stop()
        process.stdin.write("\n")
        process.stdin.flush()
        stdout, stderr = process.communicate(timeout=PATIENCE)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=PATIENCE)
    assert process.returncode == 0, stderr
    lost = f"midi: lost the JACK server '{jack_to_restart.name}'; the others play on, retrying"
    assert stdout.splitlines() == [lost, "closed"]

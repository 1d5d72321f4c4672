"""A JACK MIDI input whose arrival times are JACK's own, for the sync benches (link_alignment,
clock_in_follow). Imported as a sibling module, like benchlib.

Everything the benches compare arrives at this one port, so every time is on one time line:
RtMidi stamps each message with jack_get_time() in the client's process callback (the deltas
python-rtmidi hands over), which is the JACK period the message reached the port in, whatever
Python was doing. A synth on this port would hear it in that period too. Read by polling
rtmidi's queue, never by a callback (FACTS.md: a Python callback inside JACK's cycle loses and
garbles messages under load).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import rtmidi

QUEUE = 1 << 16  # messages RtMidi keeps until polled
POLL = 0.001  # s between polls: the stamps, not the polls, time the arrivals


class StampedInput:
    """The input port `client:client`: of its own, for senders to connect to, or (`connect_to`,
    an output's full name) fed by that output as well."""

    def __init__(self, client: str = "synth", connect_to: str | None = None) -> None:
        self.midi = rtmidi.MidiIn(rtapi=rtmidi.API_UNIX_JACK, name=client, queue_size_limit=QUEUE)
        self.midi.ignore_types(sysex=True, timing=False, active_sense=True)  # MIDI clock is measured
        if connect_to is None:
            self.midi.open_virtual_port(client)
        else:
            self.midi.open_port(self.midi.get_ports().index(connect_to), client)
        self._jack_time = 0.0  # seconds on JACK's clock since the first message (sum of the deltas)
        self._seen: list[tuple[float, list[int]]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name=f"{client}-poll", daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            while (item := self.midi.get_message()) is not None:
                self._jack_time += item[1]
                with self._lock:
                    self._seen.append((self._jack_time, item[0]))
            time.sleep(POLL)

    def take(self) -> list[tuple[float, list[int]]]:
        """(JACK time in s, message bytes) of everything received since the last take."""
        with self._lock:
            seen, self._seen = self._seen, []
        return seen

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)
        self.midi.close_port()
        self.midi.delete()


def note_ons(messages: list[tuple[float, list[int]]]) -> list[tuple[float, int]]:
    """(time, note number) of each sounding note-on (velocity 0 is a note-off)."""
    return [(at, data[1]) for at, data in messages
            if len(data) == 3 and data[0] & 0xF0 == 0x90 and data[2] > 0]


def failed_cycles(log: Path, position: int) -> int:
    """Cycles whose graph did not finish in time since `position` in jackd's log: one "Process
    error" line each (a client that missed it may drop or delay MIDI). Lines about the dummy
    driver waking some microseconds late, which jackd also calls XRuns, are not counted."""
    return log.read_bytes()[position:].decode(errors="replace").count("Process error")


def quiet_check(log: Path, seconds: float = 3.0) -> str:
    """How jackd fares on this machine right now, before anything of ensemble's runs: the cycles
    it failed in `seconds` with only the bench's own clients (none on a quiet machine)."""
    position = log.stat().st_size
    time.sleep(seconds)
    failed = failed_cycles(log, position)
    text = log.read_bytes()[position:].decode(errors="replace")
    late = text.count("JackTimedDriver::Process XRun")
    return (f"jackd with the bench's own clients only, {seconds:g} s: {failed} failed cycles, "
            f"{late} driver wake-ups late")

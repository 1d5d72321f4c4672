"""A JACK MIDI input whose arrival times are JACK's own, for the sync benches (link_alignment,
clock_in_follow). Imported as a sibling module, like benchlib.

Everything the benches compare arrives at this one port, so every time is on one time line:
ensemble's JACK MIDI input (ensemble/midi/jack_input.py) times each message by its frame in the
JACK cycle it reached the port in, whatever Python was doing. A synth on this port would hear it
in that period too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

from ensemble.midi.jack_input import JackMidiInput


class StampedInput:
    """The input port `client:client`: of its own, for senders to connect to, or (`connect_to`,
    an output's full name) fed by that output as well."""

    def __init__(self, client: str = "synth", connect_to: str | None = None) -> None:
        self._seen: list[tuple[float, list[int]]] = []
        self._lock = threading.Lock()
        self.midi = JackMidiInput(self._note, connect_to, client=client, port=client,
                                  timing=True, label=client)  # MIDI clock is measured too

    def _note(self, message: Sequence[int], when: float) -> None:
        with self._lock:
            self._seen.append((when, list(message)))

    def take(self) -> list[tuple[float, list[int]]]:
        """(time.monotonic() seconds, message bytes) of everything received since the last take."""
        with self._lock:
            seen, self._seen = self._seen, []
        return seen

    def close(self) -> None:
        self.midi.close()


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

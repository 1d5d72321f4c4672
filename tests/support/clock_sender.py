"""A plain MIDI clock sender on JACK, as a drum machine would be: what a follower is tested with."""

from __future__ import annotations

import time

import rtmidi

PPQN = 24
CLOCK, START, CONTINUE, STOP = 0xF8, 0xFA, 0xFB, 0xFC


def wait_until(due: float) -> None:
    """Sleep to just before `due`, then spin the last half millisecond."""
    while (left := due - time.monotonic()) > 0.0005:
        time.sleep(left - 0.0005)
    while time.monotonic() < due:
        pass


class ClockSender:
    """24 pulses a beat at given tempi, start/stop/continue, each sent at its logical time from
    the port `client:port`; notes what was sent when, and when each beat fell."""

    def __init__(self, client: str = "drummachine", port: str = "clock") -> None:
        self.port = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=client)
        self.port.open_virtual_port(port)
        self.sent: list[tuple[int, float]] = []
        self.beats: list[float] = []  # logical time of each beat's pulse since Start (held over stops)
        self.pulses = 0  # since Start
        self.at = 0.0

    def send(self, status: int, due: float) -> None:
        wait_until(due)
        self.port.send_message([status])
        self.sent.append((status, due))
        if status == START:
            self.pulses, self.beats = 0, []

    def clock(self, bpm: float, beats: float) -> None:
        for _ in range(round(beats * PPQN)):
            if self.pulses % PPQN == 0:
                self.beats.append(self.at)
            self.send(CLOCK, self.at)
            self.pulses += 1
            self.at += 60.0 / bpm / PPQN

    def close(self) -> None:
        self.port.close_port()
        self.port.delete()

"""A JACK MIDI input (read by its reader process) through a real JACK server, stopped and started
again by the test: what arrives and when, a port or a server that goes and comes back, a handler
that fails, a reader that crashes."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import rtmidi
from support import services

from ensemble.errors import UserError
from ensemble.midi import ports
from ensemble.midi.jack_input import JackMidiInput

PATIENCE = 10.0  # seconds any one wait may take on a loaded machine


class Received:
    """What the input hands on: (message, event time), from its thread."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[int], float]] = []
        self._lock = threading.Lock()

    def __call__(self, message: Sequence[int], when: float) -> None:
        with self._lock:
            self.messages.append((list(message), when))

    def notes(self) -> list[int]:
        with self._lock:
            return [message[1] for message, _ in self.messages if len(message) == 3]


def wait_until(what: str, done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + PATIENCE
    while not done():
        assert time.monotonic() < deadline, f"no {what} in {PATIENCE} s"
        time.sleep(0.01)


def wait_for_line(source: JackMidiInput, lines: list[str], start: str) -> None:
    """Until `source` has said a line starting with `start`; every line said is kept in `lines`."""
    def said() -> bool:
        lines.extend(source.drain_messages())
        return any(line.startswith(start) for line in lines)
    wait_until(f"line '{start}' (have {lines})", said)


class Sender:
    """A plain rtmidi output on JACK: `keys:out`, or connected to `to`."""

    def __init__(self, to: str | None = None) -> None:
        self.port = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="keys")
        if to is None:
            self.port.open_virtual_port("out")
        else:
            wait_until(f"port {to}", lambda: to in self.port.get_ports())
            self.port.open_port(self.port.get_ports().index(to), "out")

    def note(self, note: int) -> None:
        self.port.send_message([0x90, note, 100])
        self.port.send_message([0x80, note, 0])

    def close(self) -> None:
        self.port.close_port()
        self.port.delete()

    def abandon(self) -> None:
        """Its server has gone: let go, never closed (see ports.abandon)."""
        ports.abandon(self.port)


@pytest.fixture
def jack(jack_to_restart: services.Jack) -> services.Jack:
    return jack_to_restart


@pytest.fixture
def received() -> Received:
    return Received()


def test_messages_and_their_times(jack: services.Jack, received: Received) -> None:
    source = JackMidiInput(received)
    sender = Sender(to="ensemble-midi-in:midi-in")
    try:
        sent = []
        for note in (60, 62, 64):
            sent.append(time.monotonic())
            sender.note(note)
            time.sleep(0.1)
        sender.port.send_message([0xF8])  # clock: dropped unless asked for
        sender.note(65)
        wait_until("four notes", lambda: len(received.notes()) == 8)
    finally:
        sender.close()
        source.close()
    assert [message for message, _ in received.messages][:2] == [[0x90, 60, 100], [0x80, 60, 0]]
    assert [0xF8] not in [message for message, _ in received.messages]
    onsets = [when for message, when in received.messages if message[0] == 0x90][:3]
    # JACK-side times, a tenth of a second apart as sent (a generous bound: this jackd is not realtime)
    assert all(abs((onsets[i + 1] - onsets[i]) - (sent[i + 1] - sent[i])) < 0.03 for i in range(2))
    assert abs(onsets[0] - sent[0]) < 0.1


def test_clock_is_passed_on_when_asked_for(jack: services.Jack, received: Received) -> None:
    source = JackMidiInput(received, timing=True, client="clock", port="in")
    sender = Sender(to="clock:in")
    try:
        sender.port.send_message([0xFA])
        sender.port.send_message([0xF8])
        wait_until("clock", lambda: len(received.messages) == 2)
    finally:
        sender.close()
        source.close()
    assert [message for message, _ in received.messages] == [[0xFA], [0xF8]]


def test_a_failing_handler_is_said_once_and_reading_goes_on(jack: services.Jack) -> None:
    notes: list[int] = []

    def fussy(message: Sequence[int], when: float) -> None:
        if message[1] == 61:
            raise ValueError("no C#")
        notes.append(message[1])

    source = JackMidiInput(fussy)
    sender = Sender(to="ensemble-midi-in:midi-in")
    try:
        for note in (60, 61, 61, 62):
            sender.note(note)
        wait_until("the last note", lambda: notes[-1:] == [62])
        lines = source.drain_messages()
    finally:
        sender.close()
        source.close()
    assert notes == [60, 60, 62, 62]
    assert lines == ["midi in: a message was dropped (ValueError: no C#)"]


def test_no_jack_server(monkeypatch: pytest.MonkeyPatch) -> None:
    services.require_servers()
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "ensemble-test-none-here")
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    expected = r"^midi in: no JACK server is running \(server 'ensemble-test-none-here'\)$"
    with pytest.raises(UserError, match=expected):
        JackMidiInput(Received())


def test_a_named_port_across_a_server_restart(jack: services.Jack, received: Received) -> None:
    sender = Sender()
    source = JackMidiInput(received, connect_to="keys:out", label="keys in")
    lines: list[str] = []
    try:
        sender.note(60)
        wait_until("the first note", lambda: received.notes() == [60, 60])
        jack.stop()
        sender.abandon()
        wait_for_line(source, lines, "keys in: lost the JACK server")
        jack.start()
        wait_for_line(source, lines, "keys in: back on the JACK server")
        sender = Sender()
        wait_for_line(source, lines, "keys in: port keys:out is back")
        sender.note(62)
        wait_until("a note after the restart", lambda: received.notes()[2:] == [62, 62])
        lines += source.drain_messages()
    finally:
        sender.close()
        source.close()
    assert lines == [f"keys in: lost the JACK server '{jack.name}'; waiting for it",
                     f"keys in: back on the JACK server '{jack.name}'; waiting for port 'keys:out'",
                     "keys in: port keys:out is back, reconnected"]
    # a new client's times start a new anchor: still time.monotonic() readings
    assert abs(received.messages[-1][1] - time.monotonic()) < 1.0


def test_our_port_across_a_server_restart(jack: services.Jack, received: Received) -> None:
    source = JackMidiInput(received)
    lines: list[str] = []
    try:
        jack.stop()
        wait_for_line(source, lines, "midi in: lost the JACK server")
        jack.start()
        wait_for_line(source, lines, "midi in: back on the JACK server")
        sender = Sender(to="ensemble-midi-in:midi-in")
        sender.note(64)
        wait_until("a note after the restart", lambda: received.notes() == [64, 64])
        sender.close()
    finally:
        source.close()
    assert lines == [f"midi in: lost the JACK server '{jack.name}'; waiting for it",
                     f"midi in: back on the JACK server '{jack.name}'"]


def test_closing_after_the_server_went(jack: services.Jack, received: Received) -> None:
    source = JackMidiInput(received, watch=60.0)  # its watch would not notice in time
    jack.stop()
    source.close()  # neither crashes nor waits on the dead server: its client is let go


def test_a_reader_that_crashes_is_started_again(jack: services.Jack, received: Received) -> None:
    source = JackMidiInput(received, timing=True)
    lines: list[str] = []
    try:
        crashed = source.reader_pid
        os.kill(crashed, signal.SIGSEGV)  # as RtMidi's JACK input was seen to crash
        wait_for_line(source, lines, "midi in: reading again")
        assert source.reader_pid != crashed
        sender = Sender(to="ensemble-midi-in:midi-in")
        sender.note(67)
        wait_until("a note after the crash", lambda: received.notes() == [67, 67])
        sender.close()
    finally:
        source.close()
    assert lines == ["midi in: the JACK MIDI reader stopped (signal 11); starting it again",
                     "midi in: reading again"]


def test_closing_ends_the_reader(jack: services.Jack, received: Received) -> None:
    source = JackMidiInput(received)
    reader = source.reader_pid
    source.close()
    assert not Path(f"/proc/{reader}").exists()
    assert "ensemble-midi-in" not in (jack.clients() or set())

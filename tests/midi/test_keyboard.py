"""A MIDI keyboard as the seed: a plain rtmidi sender playing into a Keyboard through a real
JACK server (no ensemble code sending)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest
from support import services
from support.keys_player import Player

from ensemble.errors import UserError
from ensemble.melody import REST, Melody
from ensemble.midi.keyboard import Keyboard
from ensemble.rhythm import STEP

C4, D4, E4, F4, G4 = 60, 62, 64, 65, 67
T = TypeVar("T")


# through a real JACK server ----------------------------------------------------------------------

PATIENCE = 10.0  # seconds any one wait may take on a loaded machine



def wait_for(what: str, found: Callable[[], T | None]) -> T:
    """What `found` gives once it gives something; fails after PATIENCE seconds."""
    deadline = time.monotonic() + PATIENCE
    while not (result := found()):
        assert time.monotonic() < deadline, f"no {what} in {PATIENCE} s"
        time.sleep(0.01)
    return result


def test_a_melody_played_into_our_port(realtime_jack: services.Jack) -> None:
    keyboard = Keyboard()
    player = Player(to="ensemble-midi-in:midi-in")
    try:
        assert keyboard.port_name == "ensemble-midi-in:midi-in"
        keyboard.capture(4, 0.2, 0.4, rhythm=False)
        assert keyboard.status() == "listening for 4 steps"
        player.play([(C4, 0.0, 0.15), (E4, 0.4, 0.15), (G4, 0.6, 0.3)], time.monotonic() + 0.05)
        melody = wait_for("capture", keyboard.take)
        status, lines = keyboard.status(), keyboard.drain_messages()
    finally:
        player.close()
        keyboard.close()
    assert melody == Melody((C4, REST, E4, G4))
    assert status == "captured C4 _ E4 G4"
    assert lines == []


def test_a_melody_with_rhythm_from_a_named_port(realtime_jack: services.Jack) -> None:
    player = Player()
    keyboard = Keyboard(connect_to="keys:out")
    try:
        assert keyboard.port_name == "keys:out"
        keyboard.capture(3, 0.25, 1.0, rhythm=True)  # a step of a quarter beat; a tick is 62.5 ms
        player.play([(C4, 0.0, 0.2), (D4, 0.25, 0.45), (E4, 0.75, 0.25)], time.monotonic() + 0.05)
        melody = wait_for("capture", keyboard.take)
    finally:
        keyboard.close()
        player.close()
    assert str(melody) == "C4 D4:0.5 E4"


def test_a_missing_port_is_one_line_naming_the_ports_there_are(realtime_jack: services.Jack) -> None:
    player = Player()
    try:
        with pytest.raises(UserError, match=r"^midi in: no output port 'piano' \(ports: keys:out\)$"):
            Keyboard(connect_to="piano")
    finally:
        player.close()


def test_the_keyboard_unplugged_and_back_mid_capture(realtime_jack: services.Jack) -> None:
    player = Player()
    keyboard = Keyboard(connect_to="keys")
    try:
        keyboard.capture(4, 0.5, 1.0, rhythm=True)  # a step of half a beat; a tick is 62.5 ms
        player.play([(C4, 0.0, 0.5), (D4, 0.5, 0.25)], time.monotonic() + 0.05)
        player.close()
        went = wait_for("line saying it went", keyboard.drain_messages)
        player = Player()  # plugged in again: the same port, a new client
        back = wait_for("line saying it is back", keyboard.drain_messages)
        assert keyboard.status() == "heard 2 of 4 notes: C4 D4"
        player.play([(E4, 0.0, 0.5), (F4, 0.5, 1.0)], time.monotonic() + 0.05)
        melody = wait_for("capture", keyboard.take)
        time.sleep(0.6)  # a watch or so more: each line said once
        lines = went + back + keyboard.drain_messages()
    finally:
        keyboard.close()
        player.close()
    assert lines == ["midi in: port keys:out went away; waiting for it",
                     "midi in: port keys:out is back, reconnected"]
    assert melody.notes == (C4, D4, E4, F4) and melody.lengths is not None
    # D4 lasts until E4, across the time the port was away (at most 16 beats)
    assert (melody.lengths[0], melody.lengths[2], melody.lengths[3]) == (STEP, STEP, 16)

"""How an agent sounds: its voice settings, and the `Sound` they give each output.

Set with `set` like the learning settings, but kept apart from them: learning never sees these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from ensemble.events import Sound
from ensemble.values import Spec, choice, number, parse_value

VOICES = ("saw", "square", "tri")
MIDI_CHANNELS = 16


@dataclass(frozen=True)
class Voicing:
    voice: str = "saw"
    amp: float = 1.0  # relative loudness
    pan: float = 0.0  # -1 left .. 1 right (SuperCollider)
    cutoff: float = 2400.0  # low-pass cutoff in Hz, the brightness of the voice
    channel: int = 0  # MIDI channel 1-16; 0: by the agent's number (a0 on 1, a1 on 2, ...)
    program: int = -1  # MIDI program 0-127 sent when playing starts; -1: none
    velocity: int = 100  # MIDI velocity 1-127

    def changed(self, changes: Mapping[str, str]) -> Voicing:
        """A copy with `changes` (text values) parsed and validated, all or nothing."""
        return replace(self, **{key: parse_value(VOICING, key, text) for key, text in changes.items()})

    def sound(self, number: int) -> Sound:
        """What the outputs get for the agent with this number (a3 is number 3)."""
        channel = self.channel or number % MIDI_CHANNELS + 1
        program = self.program if self.program >= 0 else None
        return Sound(self.voice, self.amp, self.pan, self.cutoff, channel, program)


@dataclass(frozen=True)
class Timbre:
    """What, besides the note, decides how a step sounds to a listening agent."""

    voice: str
    cutoff: float
    step_seconds: float


VOICING: dict[str, Spec] = {
    "voice": choice(VOICES),
    "amp": number(float, 0.0, 2.0, "a number from 0 to 2 (1 = as loud as the others)"),
    "pan": number(float, -1.0, 1.0, "a number from -1 (left) to 1 (right)"),
    "cutoff": number(float, 100.0, 12000.0, "a frequency in Hz from 100 to 12000"),
    "channel": number(int, 0, 16, "a MIDI channel from 1 to 16 (0: by agent number)"),
    "program": number(int, -1, 127, "a MIDI program from 0 to 127 (-1: none)"),
    "velocity": number(int, 1, 127, "a MIDI velocity from 1 to 127"),
}

"""Who is heard, and how, right now: what the conductor checks each note against as it hands
it over, so that sound-level commands (mute, solo, voice, amp, ...) are heard within the
lookahead instead of at the next phrase."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from ensemble.events import NoteEvent, Sound


@dataclass(frozen=True)
class Mix:
    muted: frozenset[str] = frozenset()
    sounds: Mapping[str, tuple[Sound, int]] = field(default_factory=dict)  # agent -> (sound, velocity)

    def revise(self, event: NoteEvent) -> NoteEvent | None:
        """The note as it should sound now: None for a muted agent's, in its current sound otherwise."""
        if event.agent in self.muted:
            return None
        now = self.sounds.get(event.agent)
        if now is None or now == (event.sound, event.velocity):
            return event
        return replace(event, sound=now[0], velocity=now[1])

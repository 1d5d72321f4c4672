"""What the ensemble plays: phrases of attempts, and the note events they contain."""

from __future__ import annotations

from dataclasses import dataclass

from ensemble.melody import REST

ARTICULATION = 0.95  # a note sounds for this share of its step, so repeated notes re-strike


@dataclass(frozen=True)
class Sound:
    """How an agent sounds: its voice (e.g. "saw") and the settings every output can use."""

    voice: str = "saw"
    amp: float = 1.0
    pan: float = 0.0
    cutoff: float = 2400.0
    channel: int = 1  # MIDI, 1-16
    program: int | None = None  # MIDI program, or none


@dataclass(frozen=True)
class NoteEvent:
    agent: str  # who plays it
    start: float  # beats, from the start of the performance
    duration: float  # beats
    note: int  # MIDI
    velocity: int = 100
    sound: Sound = Sound()


@dataclass(frozen=True)
class Part:
    """One agent's heard attempt in a phrase."""

    agent: str
    notes: tuple[int, ...]
    sound: Sound = Sound()
    velocity: int = 100


@dataclass(frozen=True)
class Phrase:
    """One attempt's worth of musical time, with every agent's heard attempt.

    `silent` holds the attempts of agents muted when it was composed: no output plays them, but
    an agent unmuted mid-phrase is heard from its next note on.
    """

    index: int
    start_beat: float
    step_beats: float
    tempo: float  # beats per minute
    parts: tuple[Part, ...]
    n_steps: int
    silent: tuple[Part, ...] = ()

    @property
    def beats(self) -> float:
        return self.n_steps * self.step_beats

    @property
    def step_seconds(self) -> float:
        return self.step_beats * 60.0 / self.tempo

    def events(self, with_silent: bool = False) -> list[NoteEvent]:
        """The notes played; `with_silent`, also those of the muted agents."""
        return [
            NoteEvent(part.agent, self.start_beat + i * self.step_beats, self.step_beats, note,
                      part.velocity, part.sound)
            for part in (self.parts + self.silent if with_silent else self.parts)
            for i, note in enumerate(part.notes)
            if note != REST
        ]


@dataclass(frozen=True)
class TimedNote:
    """A note event placed on the clock's time line by the conductor."""

    event: NoteEvent
    due: float  # clock seconds at which it sounds
    duration: float  # seconds

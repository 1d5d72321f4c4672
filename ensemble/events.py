"""What the ensemble plays: phrases of attempts, and the note events they contain."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from ensemble.melody import REST

ARTICULATION = 0.95  # a note sounds for this share of its step, so repeated notes re-strike
ON_BEAT = 1e-9  # beats: positions this close count as one (float sums of lengths)


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
    """One agent's heard attempt in a phrase. `lengths`: each note's length in beats, laid on the
    phrase's grid (cut at its end, a rest filling up to it); None: every note lasts a step."""

    agent: str
    notes: tuple[int, ...]
    sound: Sound = Sound()
    velocity: int = 100
    lengths: tuple[float, ...] | None = None

    def onsets(self, step_beats: float) -> list[tuple[float, float, int]]:
        """(offset from the phrase start, length, note) of each step, in beats, rests included."""
        if self.lengths is None:
            return [(i * step_beats, step_beats, note) for i, note in enumerate(self.notes)]
        found, at = [], 0.0
        for note, length in zip(self.notes, self.lengths, strict=True):
            found.append((at, length, note))
            at += length
        return found


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
    length_beats: float | None = None  # with rhythm: the seed's length; else n_steps steps

    @property
    def beats(self) -> float:
        return self.n_steps * self.step_beats if self.length_beats is None else self.length_beats

    @property
    def rhythmic(self) -> bool:
        """Whether its parts carry lengths of their own (see Part)."""
        return self.length_beats is not None

    @property
    def step_seconds(self) -> float:
        return self.step_beats * 60.0 / self.tempo

    def rest_from(self, beat: float, tempo: float) -> Phrase | None:
        """The rest of the phrase from `beat` (the performance's beats; in steps, from the first
        step there) on, at `tempo`: what an output holding a whole phrase plays on when a followed
        tempo changes mid-phrase. A note sounding across `beat` was struck at the old tempo and is
        left out. None when nothing of the phrase is left."""
        cut = beat - self.start_beat
        if cut < -ON_BEAT or cut >= self.beats - ON_BEAT:
            return None
        cut = max(cut, 0.0)
        if not self.rhythmic:
            first = math.ceil(cut / self.step_beats - ON_BEAT)
            if first >= self.n_steps:
                return None
            return replace(self._each_part(lambda part: replace(part, notes=part.notes[first:])),
                           start_beat=self.start_beat + first * self.step_beats, tempo=tempo,
                           n_steps=self.n_steps - first)
        left = self.beats - cut
        return replace(self._each_part(lambda part: self._part_from(part, cut, left)),
                       start_beat=beat, tempo=tempo, length_beats=left)

    def _each_part(self, cut: Callable[[Part], Part]) -> Phrase:
        """The phrase with each of its parts, heard and silent, cut by `cut`."""
        return replace(self, parts=tuple(map(cut, self.parts)), silent=tuple(map(cut, self.silent)))

    def _part_from(self, part: Part, cut: float, left: float) -> Part:
        """A rhythmic part's notes from `cut` beats into the phrase, a rest up to the first."""
        kept = [(at - cut, length, note) for at, length, note in part.onsets(self.step_beats)
                if at >= cut - ON_BEAT]
        lead = kept[0][0] if kept else left
        notes = ((REST,) if lead > ON_BEAT else ()) + tuple(note for _, _, note in kept)
        lengths = ((lead,) if lead > ON_BEAT else ()) + tuple(length for _, length, _ in kept)
        return replace(part, notes=notes, lengths=lengths)

    def events(self, with_silent: bool = False) -> list[NoteEvent]:
        """The notes played; `with_silent`, also those of the muted agents."""
        return [
            NoteEvent(part.agent, self.start_beat + offset, length, note, part.velocity, part.sound)
            for part in (self.parts + self.silent if with_silent else self.parts)
            for offset, length, note in part.onsets(self.step_beats)
            if note != REST
        ]


@dataclass(frozen=True)
class TimedNote:
    """A note event placed on the clock's time line by the conductor."""

    event: NoteEvent
    due: float  # clock seconds at which it sounds
    duration: float  # seconds

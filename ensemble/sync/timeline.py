"""Beats to clock times, for the conductor: free-running, or following a beat source.

A free timeline is ensemble's own: beat 0 at an origin, then the session's tempo map. A followed
timeline asks a beat source (Link, a MIDI clock) each time: the source says, at one instant, its
beat and tempo; our beat `b` falls where the source's beat is `b + offset`. The offset is a whole
number of quanta, so our beat 0 (and, with the default quantum of one phrase, every phrase start)
falls on one of the source's quantum boundaries: that is how "bar 0" is agreed. Which boundary
is each player's own affair; Link shares phase, not beat numbers.

Asked again and again while waiting, a followed timeline gives a note the time that the source's
tempo of the moment says: a tempo change reaches every note not yet handed over, that is, from
the next beat on. When the source's beat jumps (a Link session joined, a MIDI Start after a Stop),
the offset is moved by whole quanta so that the next beat asked for is the first aligned one
ahead: the music stays on the grid, and picks up from there.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Protocol

from ensemble.tempo import TempoMap

DEFAULT_BPM = 120.0  # what a source that has told no tempo yet is taken to play at
JUMP = 0.25  # beats: a source beat this far from where its last reading and tempo put it has jumped


@dataclass(frozen=True)
class Reading:
    """A beat source at one instant: its beat at clock time `time`, at `bpm`, and whether it plays."""

    time: float
    beat: float
    bpm: float
    playing: bool = True

    def beat_at(self, when: float) -> float:
        return self.beat + (when - self.time) * self.bpm / 60.0

    def time_of(self, beat: float) -> float:
        return self.time + (beat - self.beat) * 60.0 / self.bpm


class BeatSource(Protocol):
    name: str  # as the performer knows it: `Link`, `the MIDI clock on drums:out`

    def reading(self) -> Reading | None:
        """Now; None while the source knows no tempo yet (no clock received)."""
        ...

    def align(self, quantum: float) -> None:
        """Beats will be aligned on this many (Link measures its phase against it)."""
        ...


class Timeline(Protocol):
    followed: bool  # whether times may change while waiting (then they are asked again)

    @property
    def name(self) -> str:
        """Whose time it is, for the performer."""
        ...

    def start(self, earliest: float, phrase_beats: float, beat: float = 0.0) -> float | None:
        """Place `beat` (0 when a performance starts; a phrase's first when the timeline is
        switched mid-performance) at or after clock time `earliest`; its time, or None to ask
        again later. `phrase_beats`: that phrase's length, the default quantum."""
        ...

    def at(self, beat: float) -> float | None:
        """Clock time of `beat`; None while the music is held (the source stopped)."""
        ...

    def bpm(self) -> float:
        ...


class FreeTimeline:
    """ensemble's own time: beat 0 at the origin, then the tempo map (changed at phrase boundaries)."""

    followed = False
    name = "ensemble's own tempo"

    def __init__(self, tempo: TempoMap) -> None:
        self.tempo = tempo
        self.origin = 0.0

    def start(self, earliest: float, phrase_beats: float = 0.0, beat: float = 0.0) -> float:
        self.origin = earliest - self.tempo.seconds(beat) if beat else earliest
        return earliest

    def at(self, beat: float) -> float:
        return self.origin + self.tempo.seconds(beat)

    def bpm(self) -> float:
        return self.tempo.bpm


class FollowedTimeline:
    """Our beats on a source's, a whole number of `quantum`s apart (None: the first phrase's length)."""

    followed = True

    def __init__(self, source: BeatSource, quantum: float | None = None) -> None:
        if quantum is not None and quantum <= 0:
            raise ValueError("a quantum is a positive number of beats")
        self.source = source
        self.quantum = quantum or 0.0
        self.offset: float | None = None  # source beat - our beat, a multiple of the quantum
        self._last: Reading | None = None  # the last reading while playing
        self._lock = threading.Lock()  # the conductor asks; the REPL's toolbar may too

    @property
    def name(self) -> str:
        return self.source.name

    def start(self, earliest: float, phrase_beats: float, beat: float = 0.0) -> float | None:
        if not self.quantum:
            self.quantum = phrase_beats
            self.source.align(phrase_beats)
        reading = self.source.reading()
        if reading is None or not reading.playing:
            return None
        with self._lock:
            first = math.ceil(reading.beat_at(earliest) / self.quantum - 1e-9) * self.quantum
            self.offset, self._last = first - beat, reading
        return reading.time_of(first)

    def at(self, beat: float) -> float | None:
        reading = self.source.reading()
        with self._lock:
            if reading is None or self.offset is None:
                return None
            if reading.playing and self._jumped(reading):
                self._realign(reading, beat)
            self._last = reading
            return reading.time_of(beat + self.offset) if reading.playing else None

    def bpm(self) -> float:
        reading = self.source.reading() or self._last
        return reading.bpm if reading is not None else DEFAULT_BPM

    def _jumped(self, reading: Reading) -> bool:
        """Whether the source's beat is not where its last reading put it: a stopped source
        stays where it stopped (a MIDI clock's Continue goes on from there)."""
        last = self._last
        if last is None:
            return True
        expected = last.beat_at(reading.time) if last.playing else last.beat
        return abs(reading.beat - expected) > JUMP

    def _realign(self, reading: Reading, beat: float) -> None:
        """Move the offset by whole quanta: `beat` falls on the first aligned place from now on
        (a performance resumes, or joins, as soon as it can while on the grid). A jump seen where
        there was none (a tempo change between two far-apart readings) moves nothing: the beat
        asked for is then still ahead, within one quantum."""
        assert self.offset is not None
        quanta = math.ceil((reading.beat - (beat + self.offset)) / self.quantum - 1e-9)
        self.offset += quanta * self.quantum

"""A Standard MIDI File of the performance: a tempo track and one track per agent, timed in beats.

Notes are taken from each phrase as a whole (not from the conductor's note hand-over) and placed
by their beat, so the file is exact whatever the clock, and the same performance gives the same
bytes. The file is written when the output closes; a write that fails is kept in `failure`, for
the render to say and fail on (see ensemble/files.py for how the file appears whole or not at all).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import mido

from ensemble.clock import Clock
from ensemble.errors import UserError
from ensemble.events import ARTICULATION, Phrase
from ensemble.outputs.base import Output

TICKS_PER_BEAT = 480

# Order of events that fall on the same tick: a note ends before the next one starts.
_NAME, _NOTE_OFF, _PROGRAM, _NOTE_ON = range(4)


@dataclass
class _Track:
    events: list[tuple[int, int, mido.Message | mido.MetaMessage]] = field(default_factory=list)
    program: tuple[int, int] | None = None  # (channel, program) last sent

    def add(self, tick: int, order: int, message: mido.Message | mido.MetaMessage) -> None:
        self.events.append((tick, order, message))


def ticks(beat: float) -> int:
    return round(beat * TICKS_PER_BEAT)


class MidiFileOutput(Output):
    name = "midifile"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._file: BinaryIO | None = None
        self._tempo = _Track()
        self._tempo_bpm: float | None = None
        self._agents: dict[str, _Track] = {}
        self._end_tick = 0
        self.failure: str | None = None

    def open(self, clock: Clock) -> None:
        try:
            self._file = self.path.open("wb")  # held until close(), when the file is written
        except OSError as error:
            raise UserError(f"cannot write {self.path}: {error.strerror or error}") from None

    def phrase(self, phrase: Phrase, start: float) -> None:
        at = ticks(phrase.start_beat)
        if phrase.tempo != self._tempo_bpm:
            self._tempo.add(at, 0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(phrase.tempo)))
            self._tempo_bpm = phrase.tempo
        for part in phrase.parts:
            track = self._track(part.agent)
            program = part.sound.program
            if program is not None and track.program != (part.sound.channel, program):
                track.add(at, _PROGRAM, mido.Message("program_change", channel=part.sound.channel - 1,
                                                     program=program))
                track.program = (part.sound.channel, program)
        for event in phrase.events():
            track = self._track(event.agent)
            channel = event.sound.channel - 1
            track.add(ticks(event.start), _NOTE_ON,
                      mido.Message("note_on", channel=channel, note=event.note, velocity=event.velocity))
            track.add(ticks(event.start + event.duration * ARTICULATION), _NOTE_OFF,
                      mido.Message("note_off", channel=channel, note=event.note, velocity=0))
        self._end_tick = max(self._end_tick, ticks(phrase.start_beat + phrase.beats))

    def close(self) -> None:
        if self._file is None:
            return
        file, self._file = self._file, None
        try:
            with file:
                self.midi_file().save(file=file)
        except OSError as error:
            self.failure = error.strerror or str(error)

    def midi_file(self) -> mido.MidiFile:
        """Everything received so far, as a format 1 file."""
        midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
        midi.tracks.append(self._to_track(self._tempo))
        midi.tracks.extend(self._to_track(track) for track in self._agents.values())
        return midi

    def _track(self, agent: str) -> _Track:
        if agent not in self._agents:
            self._agents[agent] = _Track()
            self._agents[agent].add(0, _NAME, mido.MetaMessage("track_name", name=agent))
        return self._agents[agent]

    def _to_track(self, track: _Track) -> mido.MidiTrack:
        """Absolute ticks -> delta times, in time order (stable: same input, same order)."""
        result = mido.MidiTrack()
        now = 0
        for tick, _, message in sorted(track.events, key=lambda event: event[:2]):
            result.append(message.copy(time=tick - now))
            now = tick
        result.append(mido.MetaMessage("end_of_track", time=max(self._end_tick - now, 0)))
        return result

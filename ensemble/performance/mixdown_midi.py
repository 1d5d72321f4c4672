"""The MIDI of a laptop ensemble: each laptop's Standard MIDI File merged into one, aligned as
the audio mix is.

Each laptop's file (ensemble.midi.file_output) holds a tempo track and a track per agent, timed
in beats. A file has one tempo map, so the merged file takes the earliest laptop's: each other
laptop's events are placed by when they sound (through its own tempo map, plus its offset), on
the beats of that map. They sound when they sounded; with one tempo for all (Link's), they fall
on the same beats too. Each agent keeps its track, named `laptop/agent`; its MIDI channel stays
as its laptop set it (a player gives two laptops on one channel one program at a time).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from pathlib import Path

import mido

from ensemble.errors import UserError

DEFAULT_TEMPO = 500_000  # microseconds per beat: a Standard MIDI File without a tempo plays at 120


class TempoMap:
    """Ticks to seconds and back, from a file's tempo changes."""

    def __init__(self, file: mido.MidiFile) -> None:
        self.ticks_per_beat = file.ticks_per_beat
        changes: dict[int, int] = {0: DEFAULT_TEMPO}
        for track in file.tracks:
            for tick, message in _absolute(track):
                if message.type == "set_tempo":
                    changes[tick] = message.tempo
        self.ticks: list[int] = []
        self.seconds: list[float] = []
        self.tempi: list[int] = []
        for tick, tempo in sorted(changes.items()):
            self.seconds.append(self.second(tick) if self.ticks else 0.0)
            self.ticks.append(tick)
            self.tempi.append(tempo)

    def second(self, tick: int) -> float:
        i = bisect.bisect_right(self.ticks, tick) - 1
        return self.seconds[i] + (tick - self.ticks[i]) * self.tempi[i] / 1e6 / self.ticks_per_beat

    def tick(self, second: float) -> int:
        i = max(bisect.bisect_right(self.seconds, second) - 1, 0)
        return round(self.ticks[i] + (second - self.seconds[i]) * 1e6 * self.ticks_per_beat / self.tempi[i])


def _absolute(track: mido.MidiTrack) -> list[tuple[int, mido.Message | mido.MetaMessage]]:
    tick, events = 0, []
    for message in track:
        tick += message.time
        events.append((tick, message))
    return events


def merge_midi(laptops: Sequence[tuple[str, Path, float]], target: Path, shown_as: Path) -> None:
    """Merge the files of `laptops` (name, file, seconds after the earliest that its first phrase
    began) into a format 1 file at `target` (`shown_as`: the name the performer gave it)."""
    files = []
    for _, path, _ in laptops:
        try:
            files.append(mido.MidiFile(path))
        except (OSError, ValueError, EOFError) as error:  # our own render's file: not expected
            raise UserError(f"cannot read the MIDI render {path.name}: {error}") from None
    earliest = min(range(len(laptops)), key=lambda index: laptops[index][2])
    reference = TempoMap(files[earliest])
    merged = mido.MidiFile(type=1, ticks_per_beat=reference.ticks_per_beat)
    tempo = [(tick, message) for tick, message in _absolute(files[earliest].tracks[0])
             if message.type == "set_tempo"]
    tracks: list[list[tuple[int, mido.Message | mido.MetaMessage]]] = [tempo]
    end = 0
    for (name, _, offset), file in zip(laptops, files, strict=True):
        own = TempoMap(file)
        for track in file.tracks[1:]:  # the first is the tempo track
            events = []
            for tick, message in _absolute(track):
                at = reference.tick(offset + own.second(tick))
                if message.type == "end_of_track":
                    end = max(end, at)
                elif message.type == "track_name":  # at the start, wherever the laptop's part begins
                    events.append((0, message.copy(name=f"{name}/{message.name}")))
                else:
                    events.append((at, message))
            tracks.append(events)
    for events in tracks:
        merged.tracks.append(_track(events, end))
    try:
        merged.save(filename=str(target))
    except OSError as error:
        raise UserError(f"cannot write {shown_as}: {error.strerror or error}") from None


def _track(events: list[tuple[int, mido.Message | mido.MetaMessage]], end: int) -> mido.MidiTrack:
    """Absolute ticks (in order already) to delta times, ending at `end`."""
    track, now = mido.MidiTrack(), 0
    for tick, message in events:
        track.append(message.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=max(end - now, 0)))
    return track

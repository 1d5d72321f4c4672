"""Where beats fall: ensemble's own tempo, or a source's beats a whole number of quanta away.

A beat source here is a line of beats written down (a tempo from a time, playing or not), so that
the arithmetic is checked exactly; tests/sync/test_link*.py and test_midi_clock_play.py follow
real Link peers and a real MIDI clock.
"""

from __future__ import annotations

import pytest

from ensemble.sync.timeline import FollowedTimeline, FreeTimeline, Reading
from ensemble.tempo import TempoMap


class WrittenBeats:
    """Beats from `start` at `bpm`, changed from given times: a tempo, a jump, a stop (the beat
    held, as a MIDI clock's is), playing again."""

    name = "written beats"

    def __init__(self, bpm: float = 120.0, start: float = 0.0) -> None:
        self.now = start
        self.segments = [(start, 0.0, bpm, True)]  # (from when, beat then, bpm, playing)
        self.quantum = 0.0

    def _segment(self, when: float) -> tuple[float, float, float, bool]:
        return [segment for segment in self.segments if segment[0] <= when][-1]

    def beat(self, when: float) -> float:
        time, beat, bpm, playing = self._segment(when)
        return beat + (when - time) * bpm / 60.0 if playing else beat

    def set_tempo(self, at: float, bpm: float) -> None:
        self.segments.append((at, self.beat(at), bpm, True))

    def jump(self, at: float, beat: float) -> None:
        self.segments.append((at, beat, self._segment(at)[2], True))

    def stop(self, at: float) -> None:
        self.segments.append((at, self.beat(at), self._segment(at)[2], False))

    def play(self, at: float) -> None:
        self.segments.append((at, self.beat(at), self._segment(at)[2], True))

    def reading(self) -> Reading:
        _, _, bpm, playing = self._segment(self.now)
        return Reading(self.now, self.beat(self.now), bpm, playing)

    def align(self, quantum: float) -> None:
        self.quantum = quantum


def test_the_free_timeline_is_the_tempo_map_from_its_origin() -> None:
    tempo = TempoMap(120)
    tempo.set_tempo(8, 60)
    timeline = FreeTimeline(tempo)
    assert timeline.start(10.0, 4.0) == 10.0
    assert (timeline.at(0), timeline.at(8), timeline.at(9)) == (10.0, 14.0, 15.0)
    assert timeline.start(20.0, 4.0, beat=8) == 20.0 and timeline.at(9) == 21.0  # switched to mid-way


def test_beat_zero_falls_on_the_first_quantum_boundary_at_or_after_the_earliest() -> None:
    source = WrittenBeats(bpm=120, start=0.0)
    source.now = 1.3  # the source is at beat 2.6
    timeline = FollowedTimeline(source)
    assert timeline.start(1.5, phrase_beats=4.0) == pytest.approx(2.0)  # beat 4 of the source
    assert source.quantum == 4.0  # one phrase, told to the source (Link measures phase against it)
    assert timeline.at(1) == pytest.approx(2.5)


def test_a_tempo_change_reaches_every_beat_not_yet_asked_for() -> None:
    source = WrittenBeats(bpm=120)
    timeline = FollowedTimeline(source, quantum=4.0)
    timeline.start(0.0, 4.0)
    source.set_tempo(1.0, 60)  # from beat 2 on, a beat a second
    source.now = 1.2
    assert timeline.at(3) == pytest.approx(2.0) and timeline.bpm() == 60


def test_while_the_source_is_stopped_the_music_holds() -> None:
    source = WrittenBeats()
    timeline = FollowedTimeline(source, quantum=4.0)
    timeline.start(0.0, 4.0)
    source.stop(0.0)
    assert timeline.at(1) is None
    assert timeline.start(0.0, 4.0) is None  # nor does it begin


def test_a_jump_moves_the_grid_by_whole_quanta_to_the_first_aligned_place_from_now() -> None:
    source = WrittenBeats(bpm=60)  # a beat a second: times read as beats
    timeline = FollowedTimeline(source, quantum=4.0)
    timeline.start(0.0, 4.0)
    source.now = 5.0
    assert timeline.at(5) == pytest.approx(5.0)
    source.jump(5.0, 103.0)  # joined a session at another phase: its beat 103 now
    source.now = 5.1
    due = timeline.at(6)  # due in a second before the jump: now on the first aligned place ahead
    assert due is not None and due >= 5.1
    assert (source.beat(due) - 6) % 4.0 == pytest.approx(0.0)  # on the grid: whole quanta apart


def test_a_continue_goes_on_from_where_the_source_stopped() -> None:
    source = WrittenBeats(bpm=60)
    timeline = FollowedTimeline(source, quantum=4.0)
    timeline.start(0.0, 4.0)
    source.now = 2.5
    assert timeline.at(3) == pytest.approx(3.0)
    source.stop(2.5)
    source.now = 10.0
    assert timeline.at(3) is None
    source.play(10.0)  # Continue: from beat 2.5
    assert timeline.at(3) == pytest.approx(10.5)  # no jump: the held beat goes on

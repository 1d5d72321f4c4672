"""How what is played becomes a melody: the quantiser and the capture, with synthetic times."""

from __future__ import annotations

import pytest

from ensemble.errors import UserError
from ensemble.melody import REST, Melody
from ensemble.midi.capture import Capture, Played, Request, quantise
from ensemble.rhythm import MAX_TICKS, STEP

STEP_S, BEAT_S = 0.25, 0.5  # 120 bpm, a step of half a beat (8 ticks; a tick is 31.25 ms)
C4, D4, E4, F4, G4 = 60, 62, 64, 65, 67


def legato(notes: list[int], onsets: list[float], last_off: float | None = None) -> list[Played]:
    """Each key up as the next goes down; the last one up at `last_off`."""
    offs: list[float | None] = [*onsets[1:], last_off]
    return [Played(note, on, off) for note, on, off in zip(notes, onsets, offs, strict=True)]


def steps(played: list[Played], count: int) -> Melody | None:
    return quantise(played, count, STEP_S, BEAT_S, rhythm=False)


def with_lengths(played: list[Played], count: int) -> Melody | None:
    return quantise(played, count, STEP_S, BEAT_S, rhythm=True)


# the quantiser, without rhythm ----------------------------------------------------------------


def test_notes_on_the_grid() -> None:
    played = legato([C4, D4, E4, F4], [10.0, 10.25, 10.5, 10.75], 11.0)
    assert steps(played, 4) == Melody((C4, D4, E4, F4))


def test_early_and_late_notes_go_to_the_nearest_step() -> None:
    # the grid is anchored at the first note; the others up to just under half a step off
    played = legato([C4, D4, E4, F4], [5.0, 5.25 + 0.12, 5.5 - 0.07, 5.75 + 0.05], 6.0)
    assert steps(played, 4) == Melody((C4, D4, E4, F4))


def test_silence_makes_rests_and_a_held_note_does_not_repeat() -> None:
    played = [Played(C4, 0.0, 0.6), Played(E4, 0.5, 0.6), Played(F4, 0.76, 0.9)]
    assert steps(played, 5) == Melody((C4, REST, E4, F4, REST))


def test_more_notes_than_steps_keeps_the_first() -> None:
    played = legato([C4, D4, E4, F4, G4, C4], [0.0, 0.25, 0.5, 0.75, 1.0, 1.25], 1.5)
    assert steps(played, 4) == Melody((C4, D4, E4, F4))


def test_two_onsets_near_one_step_keep_the_nearer() -> None:
    # played too fast: D4 on step 1's start, E4 50 ms after it (not a chord: over 40 ms apart)
    played = legato([C4, D4, E4], [0.0, 0.25, 0.3], 0.5)
    assert steps(played, 2) == Melody((C4, D4))
    played = legato([C4, D4, E4], [0.0, 0.2, 0.25], 0.5)
    assert steps(played, 2) == Melody((C4, E4))


def test_a_chord_is_heard_as_its_top_note() -> None:
    chord = [Played(C4, 0.0, 0.2), Played(G4, 0.012, 0.2), Played(E4, 0.02, 0.2)]
    assert steps([*chord, Played(D4, 0.25, 0.5)], 2) == Melody((G4, D4))


def test_a_chord_spread_shrinks_with_short_steps() -> None:
    # 30 ms apart: a chord at a step of 0.25 s, two notes at a step of 0.1 s (spread 25 ms)
    played = [Played(C4, 0.0, 0.3), Played(E4, 0.03, 0.3)]
    assert steps(played, 2) == Melody((E4, REST))
    assert quantise(played, 2, 0.1, BEAT_S, rhythm=False) == Melody((C4, REST))


def test_nothing_played_is_no_melody() -> None:
    assert steps([], 4) is None
    assert with_lengths([], 4) is None
    assert steps([Played(0, 0.0, 0.1)], 4) is None  # MIDI 0: no note a melody can hold


def test_plain_tuples_are_taken() -> None:
    assert steps([(C4, 1.0, None), (D4, 1.25, None)], 2) == Melody((C4, D4))


# the quantiser, with rhythm --------------------------------------------------------------------


def test_lengths_in_ticks_and_a_step_written_as_step() -> None:
    # C4 a step, D4 a beat (16 ticks), E4 a step, F4 released after a beat
    played = legato([C4, D4, E4, F4], [0.0, 0.25, 0.75, 1.0], 1.5)
    melody = with_lengths(played, 4)
    assert melody == Melody((C4, D4, E4, F4), (STEP, 16, STEP, 16))
    assert str(melody) == "C4 D4:1 E4 F4:1"


def test_all_notes_a_step_have_no_lengths() -> None:
    melody = with_lengths(legato([C4, D4, E4], [0.0, 0.25, 0.5], 0.75), 3)
    assert melody == Melody((C4, D4, E4)) and melody is not None and melody.lengths is None


def test_sloppy_onsets_round_on_the_grid_without_drifting() -> None:
    # each a little late or early (under half a tick), as played: every note still a step
    played = legato([C4, D4, E4, F4], [0.0, 0.26, 0.49, 0.76], 1.01)
    assert with_lengths(played, 4) == Melody((C4, D4, E4, F4))


def test_the_gap_after_a_note_belongs_to_it() -> None:
    # D4 released early; E4 comes a beat after D4 went down: D4 lasts the beat
    played = [Played(C4, 0.0, 0.25), Played(D4, 0.25, 0.3), Played(E4, 0.75, 1.0)]
    assert with_lengths(played, 3) == Melody((C4, D4, E4), (STEP, 16, STEP))


def test_the_last_note_lasts_to_its_release_or_one_step() -> None:
    assert with_lengths([Played(C4, 0.0, 0.25), Played(D4, 0.25, 1.0)], 2) == Melody((C4, D4), (STEP, 24))
    assert with_lengths([Played(C4, 0.0, 0.25), Played(D4, 0.25, None)], 2) == Melody((C4, D4))


def test_more_notes_than_wanted_the_last_ends_at_the_next_onset() -> None:
    played = [Played(C4, 0.0, 0.25), Played(D4, 0.25, 2.0), Played(E4, 0.75, 1.0)]  # D4 held over E4
    assert with_lengths(played, 2) == Melody((C4, D4), (STEP, 16))


def test_lengths_at_least_a_tick_and_at_most_sixteen_beats() -> None:
    # E4 only 10 ms after D4 at a short step (no chord), then a pause of 20 beats before F4
    played = [Played(C4, 0.0, 0.1), Played(D4, 0.1, 0.2), Played(E4, 0.11, 0.2), Played(F4, 10.11, 10.2)]
    melody = quantise(played, 4, 0.03, BEAT_S, rhythm=True)
    assert melody is not None and melody.notes == (C4, D4, E4, F4)
    assert melody.lengths is not None and melody.lengths[1] == 1 and melody.lengths[2] == MAX_TICKS
    # the clamp does not shift what follows: F4, a quarter beat, is read as such
    played.append(Played(G4, 10.235, 10.5))
    melody = quantise(played, 5, 0.03, BEAT_S, rhythm=True)
    assert melody is not None and melody.lengths is not None and melody.lengths[3] == 4


def test_a_step_off_the_tick_grid_keeps_ticks() -> None:
    # a step of 0.3 beat is no number of ticks: no length is written STEP, save the unknown last;
    # onsets at 4.8 and 14.4 ticks fall on ticks 5 and 14
    played = legato([C4, D4, E4], [0.0, 0.15, 0.45], None)
    assert quantise(played, 3, 0.15, BEAT_S, rhythm=True) == Melody((C4, D4, E4), (5, 9, STEP))


# the capture, with synthetic times ---------------------------------------------------------------


def note_on(note: int, channel: int = 0, velocity: int = 100) -> list[int]:
    return [0x90 | channel, note, velocity]


def note_off(note: int, channel: int = 0) -> list[int]:
    return [0x80 | channel, note, 0]


def play(capture: Capture, notes: list[int], onsets: list[float], hold: float = 0.2) -> None:
    for note, on in zip(notes, onsets, strict=True):
        capture.receive(note_on(note), on)
        capture.receive(note_off(note), on + hold)


def request(count: int, rhythm: bool = False) -> Request:
    return Request(count, STEP_S, BEAT_S, rhythm)


def test_capture_starts_at_the_first_note_and_ends_after_its_steps() -> None:
    capture = Capture()
    assert capture.status(0.0) == "not listening"
    capture.capture(request(4))
    assert capture.status(1.0) == "listening for 4 steps"
    capture.receive(note_on(C4), 100.0)
    capture.receive(note_off(C4), 100.2)
    capture.receive(note_on(E4, channel=9), 100.5)  # any channel
    assert capture.status(100.55) == "heard 3 of 4 steps: C4 _ E4"
    assert capture.take(100.8) is None  # not complete yet
    assert capture.take(101.0) == Melody((C4, REST, E4, REST))
    assert capture.take(101.0) is None  # once
    assert capture.status(101.0) == "captured C4 _ E4 _"
    capture.receive(note_on(G4), 102.0)  # not listening any more
    assert capture.take(104.0) is None


def test_realtime_and_other_messages_are_ignored() -> None:
    capture = Capture()
    capture.capture(request(2))
    for message in ([0xF8], [0xFA], [0xFE], [0xB0, 64, 127], [0xE0, 0, 64], [0xC0, 5]):
        capture.receive(message, 1.0)
    assert capture.status(1.1) == "listening for 2 steps"


def test_velocity_zero_is_a_note_off() -> None:
    capture = Capture()
    capture.capture(request(2, rhythm=True))
    capture.receive(note_on(C4), 1.0)
    capture.receive(note_on(D4), 1.25)
    assert capture.take(1.3) is None
    capture.receive(note_on(D4, velocity=0), 1.75)  # released: the capture is complete
    assert capture.take(1.75) == Melody((C4, D4), (STEP, 16))


def test_with_rhythm_a_capture_waits_for_its_notes_however_long() -> None:
    capture = Capture()
    capture.capture(request(3, rhythm=True))
    play(capture, [C4, D4], [0.0, 0.25], hold=0.25)
    assert capture.status(3.0) == "heard 2 of 3 notes: C4 D4"
    assert capture.take(3.0) is None
    capture.receive(note_on(E4), 3.5)
    capture.receive(note_on(G4), 3.51)  # a chord with E4: no fourth note
    capture.receive(note_off(G4), 3.7)
    assert capture.take(3.8) is None  # E4 still down
    capture.receive(note_off(E4), 4.0)
    melody = capture.take(4.0)
    # D4 until E4 (3.25 s, 104 ticks); the chord heard as G4, until G4's release (0.2 s, 6.4 ticks)
    assert melody == Melody((C4, D4, G4), (STEP, 104, 6))


def test_with_rhythm_a_held_last_note_ends_after_sixteen_beats() -> None:
    capture = Capture()
    capture.capture(request(1, rhythm=True))
    capture.receive(note_on(C4), 1.0)
    assert capture.take(1.0 + 16 * BEAT_S - 0.01) is None
    assert capture.take(1.0 + 16 * BEAT_S) == Melody((C4,), (MAX_TICKS,))


def test_following_captures_phrase_after_phrase() -> None:
    capture = Capture()
    capture.follow(request(4))
    play(capture, [C4, D4, E4, F4], [0.0, 0.25, 0.5, 0.75])
    # the next phrase's first note a little early: it starts the next capture, anchoring its grid
    play(capture, [G4, F4, E4, D4], [0.97, 1.22, 1.47, 1.72])
    assert capture.status(1.5) == "following: heard 3 of 4 steps: G4 F4 E4"
    assert capture.take(1.5) == Melody((C4, D4, E4, F4))
    assert capture.take(2.0) == Melody((G4, F4, E4, D4))
    assert capture.status(2.0) == "following: listening for 4 steps (captured G4 F4 E4 D4)"
    play(capture, [C4], [5.0])
    play(capture, [D4], [6.0])  # a rest later: the first phrase is complete, a new one begins
    assert capture.take(6.5) == Melody((C4, REST, REST, REST))
    capture.off()
    assert capture.take(9.0) is None and capture.status(9.0) == "captured C4 _ _ _"


def test_take_gives_the_newest_of_several() -> None:
    capture = Capture()
    capture.follow(request(2, rhythm=True))
    play(capture, [C4, D4], [0.0, 0.25], hold=0.25)
    play(capture, [E4, F4], [1.0, 1.25], hold=0.25)
    assert capture.take(2.0) == Melody((E4, F4))
    assert capture.take(2.0) is None


def test_with_rhythm_following_the_next_onset_ends_a_held_note() -> None:
    capture = Capture()
    capture.follow(request(2, rhythm=True))
    capture.receive(note_on(C4), 0.0)
    capture.receive(note_on(D4), 0.25)
    capture.receive(note_off(C4), 0.26)
    capture.receive(note_on(E4), 0.75)  # D4 still down: it lasted until E4
    assert capture.take(0.8) == Melody((C4, D4), (STEP, 16))
    assert capture.status(0.8) == "following: heard 1 of 2 notes: E4"


def test_a_new_capture_drops_the_one_being_heard() -> None:
    capture = Capture()
    capture.capture(request(2))
    play(capture, [C4], [0.0])
    capture.capture(request(2))
    assert capture.status(0.3) == "listening for 2 steps"
    capture.off()
    assert capture.status(0.3) == "not listening"


def test_at_least_one_step() -> None:
    with pytest.raises(UserError, match="at least one step"):
        Request(0, STEP_S, BEAT_S, False)

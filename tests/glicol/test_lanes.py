"""Rhythmic parts laid on Glicol's seq grid: lanes by length, steps, where the engine puts a note."""

from ensemble.events import Part
from ensemble.glicol.engine import SAMPLE_RATE
from ensemble.glicol.lanes import MAX_LANES, choose_lanes, lane_of, onset_sample, seq_steps, timed_notes
from ensemble.glicol.sequencer import bpm_for_bar
from ensemble.melody import REST

RATE = SAMPLE_RATE


def test_timed_notes_are_in_ticks_rests_left_out_and_cut_at_the_phrase_end():
    part = Part("a0", (60, REST, 64, 67), lengths=(1.0, 0.5, 0.25, 2.0))
    assert timed_notes(part, 0.25, 40) == ((0, 16, 60), (24, 4, 64), (28, 12, 67))  # 2 beats cut to 0.75
    assert timed_notes(part, 0.25, 28) == ((0, 16, 60), (24, 4, 64))
    assert timed_notes(Part("a0", (60, 62)), 0.5, 16) == ((0, 8, 60), (8, 8, 62))  # no lengths: steps


def test_lanes_keep_those_of_the_phrase_before_while_they_fit_and_are_bounded():
    assert choose_lanes([8, 16, 8]) == (8, 16)
    assert choose_lanes([8], kept=(8, 16)) == (8, 16)  # the 16 lane rests: no new chains
    assert choose_lanes([4, 32], kept=(8, 16)) == (4, 8, 16, 32)
    assert choose_lanes([4, 32, 64], kept=(8, 16)) == (4, 32, 64)  # too many with them: a new set
    many = choose_lanes([4, 8, 12, 16, 20, 24, 28])
    assert len(many) == MAX_LANES and many[0] == 4
    assert [lane_of(length, many) for length in (4, 13, 28)] == [4, max(x for x in many if x <= 13),
                                                                  max(x for x in many if x <= 28)]
    assert lane_of(2, (4, 8)) == 4  # shorter than every lane: the shortest


def test_seq_steps_take_the_coarsest_grid_and_split_a_step_only_where_a_note_needs_it():
    assert seq_steps([(0, 60), (48, 62)], 80) == [60, REST, REST, 62, REST]  # grid of 16 ticks
    assert seq_steps([], 80) == [REST]
    steps = seq_steps([(0, 60), (33, 62), (64, 65)], 128)  # 33: on no grid coarser than a tick
    assert len(steps) == 16 and steps[4] == (REST, 62, *(REST,) * 6) and steps[8] == 65


def test_onset_sample_is_within_a_sample_of_the_exact_place():
    bar = 240.0 / bpm_for_bar(136392) * RATE
    for tick in range(80):
        assert abs(onset_sample(tick, 80, bar) - tick * 136392 / 80) < 1

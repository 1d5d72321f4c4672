"""Cycle start times from our callback's wake-ups: late wake-ups do not move them, the frame
counter's wrap does not, and a counter that jumps against the clock is followed."""

from __future__ import annotations

import random

import pytest

from ensemble.midi.cycle_clock import WRAP, CycleClock

RATE, PERIOD = 48000, 64


def test_late_wake_ups_do_not_move_the_start() -> None:
    clock, rng = CycleClock(RATE), random.Random(3)
    errors = []
    for cycle in range(1000):
        start = 100.0 + cycle * PERIOD / RATE
        late = 0.0 if cycle % 50 == 0 else rng.uniform(0.0, 0.0012)  # some wake on time, most not
        errors.append(clock.cycle_start(cycle * PERIOD, PERIOD, start + late) - start)
    assert max(abs(error) for error in errors[50:]) < 1e-9


def test_the_frame_counter_wraps() -> None:
    clock = CycleClock(RATE)
    first = WRAP - 10 * PERIOD
    for cycle in range(20):
        frame = (first + cycle * PERIOD) % WRAP
        start = clock.cycle_start(frame, PERIOD, 5.0 + cycle * PERIOD / RATE + (0.0005 if cycle else 0.0))
        assert start == pytest.approx(5.0 + cycle * PERIOD / RATE, abs=1e-9)


def test_a_stalled_counter_is_followed() -> None:
    clock = CycleClock(RATE)
    for cycle in range(10):
        clock.cycle_start(cycle * PERIOD, PERIOD, cycle * PERIOD / RATE)
    # the driver stalls 20 ms: its frames go on from where they were, the clock does not
    later = 10 * PERIOD / RATE + 0.02
    assert clock.cycle_start(10 * PERIOD, PERIOD, later) == pytest.approx(later)
    after = later + PERIOD / RATE
    assert clock.cycle_start(11 * PERIOD, PERIOD, after + 0.0003) == pytest.approx(after)

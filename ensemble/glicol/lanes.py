"""Rhythmic parts on Glicol's `seq` grid: one chain (a lane) per note length an agent plays.

A Glicol synth has one envelope, fixed by its chain's text, and changing its decay while the
chain plays bends every envelope still within reach (the engine recomputes them from the new
decay): so an agent's notes are split by length into lanes, each with the decay its length
implies, the others resting in it. Within a lane a note sits at its own onset on the phrase's
tick grid (ensemble.rhythm), which Glicol places by the fraction of its bar it is at:
`onset_sample` says where, so the sequencer can find a note's block.

Bounds: an agent keeps at most MAX_LANES lanes (lengths beyond are played in the lane of the
nearest shorter length), and a lane's `seq` is written on the coarsest steps that hold its
onsets, a step split only where a note needs it (`60 _ __62 _`), so a long phrase of few notes
stays a short line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from math import gcd

import numpy as np

from ensemble.events import Part
from ensemble.melody import REST
from ensemble.rhythm import TICKS_PER_BEAT

MAX_LANES = 4
Cell = tuple[int, ...]  # one `seq` step split evenly between notes and rests: `__62` is (REST, REST, 62)
Timed = tuple[int, int, int]  # (onset, length, note): ticks from the phrase start, ticks, MIDI


def timed_notes(part: Part, step_beats: float, phrase_ticks: int) -> tuple[Timed, ...]:
    """The part's sounding notes in ticks, cut at the phrase's end."""
    found = []
    for offset, length, note in part.onsets(step_beats):
        start = round(offset * TICKS_PER_BEAT)
        end = min(phrase_ticks, start + round(length * TICKS_PER_BEAT))
        if note != REST and end > start:
            found.append((start, end - start, note))
    return tuple(found)


def choose_lanes(lengths: Iterable[int], kept: Sequence[int] = ()) -> tuple[int, ...]:
    """The lane lengths for notes of these lengths: those `kept` from the phrase before too, when
    they all fit (so that the chains, and their place on the grid, carry on)."""
    needed = sorted(set(lengths))
    while len(needed) > MAX_LANES:  # merge the two nearest lengths (by ratio) into the shorter
        pair = min(range(len(needed) - 1), key=lambda i: needed[i + 1] / needed[i])
        del needed[pair + 1]
    both = sorted(set(needed) | set(kept))
    return tuple(both if len(both) <= MAX_LANES else needed)


def lane_of(length: int, lanes: Sequence[int]) -> int:
    """The lane a note of `length` plays in: its own, else the longest shorter (its envelope then
    ends early rather than late), else the shortest."""
    shorter = [lane for lane in lanes if lane <= length]
    return max(shorter) if shorter else min(lanes)


def seq_steps(onsets: Sequence[tuple[int, int]], phrase_ticks: int) -> list[int | Cell]:
    """`seq` steps for notes at these (tick, note) onsets: a rest in between, the fewest elements.

    The grid is the coarsest that holds every onset; on it, steps of `size` grid units are
    written whole and split only where a note falls inside one. Every size that puts no two
    notes in one step is tried, and the one with the fewest elements wins (whole steps on ties).
    """
    unit = gcd(phrase_ticks, *(tick for tick, _ in onsets))
    units = phrase_ticks // unit
    notes = {tick // unit: note for tick, note in onsets}
    best, best_size = units, 1
    for size in _divisors(units):
        if size == 1 or len({u // size for u in notes}) < len(notes):
            continue
        cost = units // size + sum(size // gcd(size, u % size) for u in notes)
        if cost < best:
            best, best_size = cost, size
    steps: list[int | Cell] = [REST] * (units // best_size)
    for u, note in notes.items():
        step, offset = divmod(u, best_size)
        split = best_size // gcd(best_size, offset)
        at = offset * split // best_size
        steps[step] = note if split == 1 else (REST,) * at + (note,) + (REST,) * (split - 1 - at)
    return steps


def _divisors(number: int) -> list[int]:
    small = [d for d in range(1, int(number**0.5) + 1) if number % d == 0]
    return sorted(set(small + [number // d for d in small]))


def onset_sample(tick: int, phrase_ticks: int, bar: float) -> int:
    """The sample, from its chain's bar start, at which Glicol triggers a note at `tick`: it takes
    the step's place in the bar as a 32-bit float and truncates (measured, seq.rs). `bar`: the
    engine's bar in samples as it computes it, 240 / bpm * 44100."""
    return int(float(np.float32(tick) / np.float32(phrase_ticks)) * bar)

"""Value types for time within a phrase: note lengths on a grid of sixteenths of a beat. No I/O.

A length is held as a whole number of ticks (TICKS_PER_BEAT to a beat), so sums and comparisons
are exact and a length fits an integer array, as notes do.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ensemble.errors import UserError
from ensemble.safe_text import printable

TICKS_PER_BEAT = 16  # lengths are multiples of 1/16 beat
MAX_TICKS = 16 * TICKS_PER_BEAT  # up to 16 beats
STEP = 0  # the length of a note written without one: one `step`, whatever the step is
ALLOWED = "a multiple of 1/16 beat from 0.0625 to 16 (e.g. 0.25, 0.5, 0.75, 1, 1.5, 2)"


def parse_length(text: str) -> int:
    """`0.5` -> 8 ticks, `3/4` -> 12; refuses anything off the grid or out of range."""
    try:
        beats = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise UserError(f"length '{printable(text)}' is not a number of beats: {ALLOWED}") from None
    ticks = beats * TICKS_PER_BEAT
    if ticks.denominator != 1 or not 1 <= ticks <= MAX_TICKS:
        raise UserError(f"length '{printable(text)}' beats: must be {ALLOWED}")
    return int(ticks)


def length_text(ticks: int) -> str:
    """8 -> `0.5`, 16 -> `1`, 1 -> `0.0625`: the shortest decimal that reads back exactly."""
    return repr(ticks / TICKS_PER_BEAT).removesuffix(".0")  # sixteenths are exact in binary


def beats(ticks: int) -> float:
    return ticks / TICKS_PER_BEAT


def step_ticks(step_beats: float) -> int | None:
    """The step as ticks, or None when it is not on the grid (e.g. step 0.3)."""
    ticks = Fraction(step_beats).limit_denominator(1 << 20) * TICKS_PER_BEAT
    return int(ticks) if ticks.denominator == 1 and 1 <= ticks <= MAX_TICKS else None


@dataclass(frozen=True)
class Rhythm:
    """The lengths an agent may play (its rhythm palette), in ticks; empty = one step, whatever
    the step is (the default: an agent then plays and learns as before there were lengths).

    Written `step` or beats separated by commas: `0.5,1,2`.
    """

    lengths: tuple[int, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Rhythm:
        if text == "step":
            return cls()
        words = [word for word in text.split(",") if word]
        if not words:
            raise UserError(f"rhythm '{printable(text)}': write step, or lengths in beats such as 0.5,1,2")
        lengths = sorted({parse_length(word) for word in words})
        return cls(tuple(lengths))

    def __str__(self) -> str:
        return ",".join(length_text(t) for t in self.lengths) if self.lengths else "step"


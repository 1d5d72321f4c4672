"""Value types for pitch: note names, melodies, scales and palettes. No I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from ensemble.errors import UserError
from ensemble.hints import hint
from ensemble.rhythm import STEP, length_text, parse_length
from ensemble.safe_text import printable

REST = -1
"""A step that sounds nothing. Stored as -1 so melodies fit in integer arrays."""

REST_TOKEN = "_"
LOWEST_NOTE = 1  # MIDI 0 is Glicol's own "silence" value in `seq`, so it cannot be played.
HIGHEST_NOTE = 127

_NOTE_RE = re.compile(r"([A-Ga-g])([#b]?)(-?\d+)")
_NATURALS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_SHARP_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_RANGE_DASH = re.compile(r"(?<=\d)-")  # after the low note's last digit: C#-1-C4 is C#-1 to C4
_MOST_DIGITS = 4  # more (leading zeros aside) cannot name a note, nor be read cheaply


def _small_number(text: str) -> int | None:
    """`text` (a minus sign perhaps, then decimal digits) as an int; None when it has too many
    digits to be any note's (int() would refuse thousands of them, or take long)."""
    digits = text.removeprefix("-").lstrip("0") or "0"
    if len(digits) > _MOST_DIGITS:
        return None
    return -int(digits) if text.startswith("-") else int(digits)


def parse_note(token: str) -> int:
    """`C4` -> 60, `F#3` -> 54, `Bb5` -> 82, `61` -> 61, `_` -> REST."""
    if token == REST_TOKEN:
        return REST
    if token.isdecimal():  # the digits int() reads (isdigit() would also take superscripts)
        number = _small_number(token)
    else:
        match = _NOTE_RE.fullmatch(token)
        if match is None:
            raise UserError(f"'{printable(token)}' is not a note (use C4, F#3, Bb5, a MIDI number or _)")
        letter, accidental, octave_text = match.groups()
        octave = _small_number(octave_text)
        number = None if octave is None else (
            (octave + 1) * 12 + _NATURALS[letter.upper()] + {"#": 1, "b": -1, "": 0}[accidental])
    if number is None:
        raise UserError(f"'{printable(token)}' is outside MIDI {LOWEST_NOTE}..{HIGHEST_NOTE}")
    if not LOWEST_NOTE <= number <= HIGHEST_NOTE:
        raise UserError(f"'{printable(token)}' is MIDI {number}, outside {LOWEST_NOTE}..{HIGHEST_NOTE}")
    return number


def note_name(note: int) -> str:
    """60 -> `C4`; REST -> `_`. Sharps are used for black keys."""
    if note == REST:
        return REST_TOKEN
    return f"{_SHARP_NAMES[note % 12]}{note // 12 - 1}"


@dataclass(frozen=True)
class Melody:
    """A fixed-length sequence of steps, each a MIDI note or REST, with its length in ticks
    (ensemble.rhythm: 1/16 beat; STEP = one `step`). `lengths` is None when every note lasts a
    step, as melodies were before lengths existed: they then play exactly as they did."""

    notes: tuple[int, ...]
    lengths: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if not self.notes:
            raise UserError("a melody needs at least one step")
        if self.lengths is not None and all(length == STEP for length in self.lengths):
            object.__setattr__(self, "lengths", None)  # one spelling for a melody of steps

    @classmethod
    def parse(cls, text: str | Iterable[str]) -> Melody:
        tokens = text.split() if isinstance(text, str) else list(text)
        notes, lengths = [], []
        for position, token in enumerate(tokens, start=1):
            note, colon, length = token.rpartition(":") if ":" in token else (token, "", "")
            try:
                notes.append(parse_note(note))
                lengths.append(parse_length(length) if colon else STEP)
            except UserError as error:
                raise UserError(f"step {position}: {error}") from None
        return cls(tuple(notes), tuple(lengths))

    @property
    def rhythmic(self) -> bool:
        """Whether any note has a length of its own."""
        return self.lengths is not None

    def ticks(self, step: int) -> tuple[int, ...]:
        """Each note's length in ticks, a note of one step lasting `step` ticks."""
        if self.lengths is None:
            return (step,) * len(self.notes)
        return tuple(step if length == STEP else length for length in self.lengths)

    def __len__(self) -> int:
        return len(self.notes)

    def transposed(self, semitones: int) -> Melody:
        """Every note moved by `semitones`, rests and lengths kept; a UserError when a note would
        leave MIDI's range."""
        moved = tuple(note if note == REST else note + semitones for note in self.notes)
        return Melody(_within_midi(moved, f"transposed by {semitones:+d}"), self.lengths)

    def perturbed(self, how: str) -> Melody:
        """`reverse`: backwards (retrograde), lengths too; `invert`: every interval turned upside
        down around the first note (a UserError when a note would leave MIDI's range); `rotate`:
        the first step moved to the end."""
        lengths = self.lengths
        if how == "reverse":
            return Melody(self.notes[::-1], None if lengths is None else lengths[::-1])
        if how == "rotate":
            rotated = None if lengths is None else lengths[1:] + lengths[:1]
            return Melody(self.notes[1:] + self.notes[:1], rotated)
        pivot = next((note for note in self.notes if note != REST), None)
        mirrored = tuple(note if note == REST or pivot is None else 2 * pivot - note for note in self.notes)
        return Melody(_within_midi(mirrored, "inverted"), lengths)

    def __iter__(self) -> Iterator[int]:
        return iter(self.notes)

    def __str__(self) -> str:
        if self.lengths is None:
            return " ".join(note_name(note) for note in self.notes)
        return " ".join(note_name(note) + ("" if length == STEP else f":{length_text(length)}")
                        for note, length in zip(self.notes, self.lengths, strict=True))


SCALES: dict[str, tuple[int, ...]] = {
    "chromatic": tuple(range(12)),
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "pentatonic": (0, 2, 4, 7, 9),
    "minor_pentatonic": (0, 3, 5, 7, 10),
    "blues": (0, 3, 5, 6, 7, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "wholetone": (0, 2, 4, 6, 8, 10),
}


@dataclass(frozen=True)
class Palette:
    """The notes an agent may play: a scale over a range, plus rest.

    Written `scale:LOW-HIGH`, e.g. `major:C4-C6`. The scale is rooted on LOW's pitch class.
    """

    scale: str
    low: int
    high: int
    with_rest: bool = True

    @classmethod
    def parse(cls, text: str) -> Palette:
        scale, _, span = text.partition(":")
        if scale not in SCALES:
            raise UserError(f"unknown scale '{printable(scale)}'{hint(scale, SCALES, 'choose from')}")
        ends = _RANGE_DASH.split(span, maxsplit=1)
        if len(ends) < 2:
            raise UserError(f"palette '{printable(text)}' needs a range, e.g. {scale}:C4-C6")
        low, high = parse_note(ends[0]), parse_note(ends[1])
        if REST in (low, high) or low > high:
            raise UserError(f"palette range '{printable(span)}' must go from a low note to a higher one")
        return cls(scale, low, high)

    @property
    def notes(self) -> tuple[int, ...]:
        """The playable notes, low to high, then REST if the palette has rests."""
        degrees = set(SCALES[self.scale])
        pitched = tuple(n for n in range(self.low, self.high + 1) if (n - self.low) % 12 in degrees)
        return pitched + ((REST,) if self.with_rest else ())

    def __str__(self) -> str:
        return f"{self.scale}:{note_name(self.low)}-{note_name(self.high)}"


def _within_midi(notes: tuple[int, ...], done: str) -> tuple[int, ...]:
    outside = [note for note in notes if note != REST and not LOWEST_NOTE <= note <= HIGHEST_NOTE]
    if outside:
        raise UserError(f"{done}, the seed would leave MIDI {LOWEST_NOTE}..{HIGHEST_NOTE} ({outside[0]})")
    return notes


def melody_text(notes: Sequence[int]) -> str:
    return " ".join(note_name(int(note)) for note in notes)


def laid_on(notes: Sequence[int], lengths: Sequence[int],
            grid: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Notes and lengths (ticks) laid on a phrase of `grid` ticks: a note that runs past its end
    is cut there, notes after it are dropped, and a rest fills what an attempt leaves short."""
    laid_notes: list[int] = []
    laid_lengths: list[int] = []
    at = 0
    for note, length in zip(notes, lengths, strict=True):
        if at >= grid:
            break
        laid_notes.append(note)
        laid_lengths.append(min(length, grid - at))
        at += length
    if at < grid:
        laid_notes.append(REST)
        laid_lengths.append(grid - at)
    return tuple(laid_notes), tuple(laid_lengths)

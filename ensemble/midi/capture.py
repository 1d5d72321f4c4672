"""How what is played on a keyboard becomes a melody: no port, no thread, no clock of its own.

- `quantise`: played notes (pitch, on and off times in seconds) -> a Melody. Without rhythm the
  step grid is anchored at the first note-on and each step takes the note whose onset is nearest
  its start (within half a step), else a rest. With rhythm each note lasts until the next onset
  (the last one until its release, else one step), on the grid of ticks (1/16 beat).
- `Capture`: MIDI messages with their times in, completed melodies out (times are passed in, so
  it is tested with synthetic times). keyboard.py feeds it from a JACK MIDI input.

Chords: onsets closer together than CHORD_SPREAD (and than a quarter step) are one chord, heard
as its highest note. On a keyboard the melody is the top voice (what is played beneath it
accompanies it), and a key brushed by accident while playing a line is as likely below as above,
so the top note is the better guess of the two. Notes on every channel are heard alike.
"""


from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from ensemble.errors import UserError
from ensemble.melody import LOWEST_NOTE, REST, Melody, melody_text
from ensemble.rhythm import MAX_TICKS, STEP, TICKS_PER_BEAT, step_ticks

CHORD_SPREAD = 0.04  # seconds: onsets this close are struck together (a chord), not one after another
NOTE_OFF, NOTE_ON = 0x80, 0x90


class Played(NamedTuple):
    """One key pressed: its MIDI note, when it went down and when it came up (None: still down)."""

    note: int
    on: float
    off: float | None


def chord_spread(step_seconds: float) -> float:
    """How close two onsets must be to count as one chord: CHORD_SPREAD, or less for short steps."""
    return min(CHORD_SPREAD, step_seconds / 4)


def chords(played: Sequence[Played], spread: float) -> list[Played]:
    """Notes in the order they were struck, a chord (onsets within `spread` of its first) counted
    once: its highest note, from its first onset to that note's release."""
    grouped: list[list[Played]] = []
    for key in sorted(played, key=lambda key: key.on):
        if grouped and key.on - grouped[-1][0].on < spread:
            grouped[-1].append(key)
        else:
            grouped.append([key])
    heard = []
    for chord in grouped:
        top = max(chord, key=lambda key: key.note)
        heard.append(Played(top.note, chord[0].on, top.off))
    return heard


def quantise(played: Sequence[tuple[int, float, float | None]], steps: int, step_seconds: float,
             beat_seconds: float, rhythm: bool) -> Melody | None:
    """The melody in what was played (see the module's docstring); None when no note was played.

    Without rhythm: `steps` steps, onsets after the last step dropped, and of two onsets nearest
    one step's start the nearer kept. With rhythm: the first `steps` notes (fewer if fewer were
    played), each lasting until the next onset; the last until its release, or the next onset
    if that comes first, or one step if it has neither. Each length is at least one tick and at
    most MAX_TICKS (16 beats); a length of exactly one step is written STEP, as a melody typed
    without lengths is.
    """
    keys = [Played(*key) for key in played if key[0] >= LOWEST_NOTE]
    if not keys:
        return None
    heard = chords(keys, chord_spread(step_seconds))
    if rhythm:
        return _with_lengths(heard, min(steps, len(heard)), step_seconds, beat_seconds)
    return _on_steps(heard, steps, step_seconds)


def _on_steps(heard: list[Played], steps: int, step_seconds: float) -> Melody:
    first = heard[0].on
    notes = [REST] * steps
    offsets: list[float | None] = [None] * steps  # how far the note taken is from its step's start
    for key in heard:
        step = math.floor((key.on - first) / step_seconds + 0.5)
        if step >= steps:
            break
        offset = abs(key.on - first - step * step_seconds)
        taken = offsets[step]
        if taken is None or offset < taken:
            notes[step], offsets[step] = key.note, offset
    return Melody(tuple(notes))


def _with_lengths(heard: list[Played], count: int, step_seconds: float, beat_seconds: float) -> Melody:
    tick = beat_seconds / TICKS_PER_BEAT
    one_step = step_ticks(step_seconds / beat_seconds)

    def on_grid(seconds: float) -> int:  # ticks from the first onset: each onset rounded, not each length
        return round((seconds - heard[0].on) / tick)

    starts: list[int] = []
    for key in heard[:count]:
        starts.append(max(on_grid(key.on), starts[-1] + 1) if starts else 0)  # a tick apart at least
    lengths = []
    for index, start in enumerate(starts):
        if index + 1 < count:
            end: int | None = starts[index + 1]
        else:  # the last note: until its release, or the next onset if that comes first
            off = heard[index].off
            ends = [key.on for key in heard[count : count + 1]] + ([] if off is None else [off])
            end = max(on_grid(min(ends)), start + 1) if ends else None
        length = STEP if end is None else min(end - start, MAX_TICKS)
        lengths.append(STEP if length == one_step else length)
    return Melody(tuple(key.note for key in heard[:count]), tuple(lengths))


@dataclass(frozen=True)
class Request:
    """What a capture listens for: `steps` steps of `step_seconds` (or, with rhythm, that many
    notes, their lengths on a grid of 1/16 of `beat_seconds`)."""

    steps: int
    step_seconds: float
    beat_seconds: float
    rhythm: bool

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise UserError(f"a capture needs at least one step (not {self.steps})")
        if not (self.step_seconds > 0 and self.beat_seconds > 0):
            raise ValueError("step and beat must last some time")

    @property
    def unit(self) -> str:
        return "notes" if self.rhythm else "steps"

    @property
    def longest(self) -> float:
        """Seconds after the last note's onset at which a capture with rhythm ends, held or not."""
        return MAX_TICKS * self.beat_seconds / TICKS_PER_BEAT


class Capture:
    """Captures what is played, from MIDI messages and their times; not thread-safe (Keyboard is).

    Armed by `capture` or `follow`, a capture starts at the first note-on after that and is
    complete once its N steps have passed (without rhythm), or once the Nth note has been
    released, another note struck, or 16 beats passed (with rhythm). A note struck after a
    capture's last step (half a step after its start or later) starts the next one, when
    following: each capture's grid is anchored at its own first note.
    """

    def __init__(self) -> None:
        self.request: Request | None = None
        self.following = False
        self._played: list[Played] = []
        self._down: dict[int, int] = {}  # note -> its index in _played, while the key is down
        self._ready: Melody | None = None  # completed, not taken yet
        self.last: Melody | None = None  # the newest completed capture

    # -- asked for -------------------------------------------------------------------------------
    def capture(self, request: Request) -> None:
        """Listen for one melody (dropping one being heard)."""
        self._arm(request, following=False)

    def follow(self, request: Request) -> None:
        """Listen for melody after melody until `off`."""
        self._arm(request, following=True)

    def off(self) -> None:
        """Listen no more: what is being heard, and a completed capture not taken, are dropped."""
        self.request, self.following, self._ready = None, False, None
        self._forget_played()

    def take(self, now: float) -> Melody | None:
        """A capture completed by `now`, once: the newest, if several were."""
        self.advance(now)
        ready, self._ready = self._ready, None
        return ready

    # -- heard -----------------------------------------------------------------------------------
    def receive(self, message: Sequence[int], when: float) -> None:
        """One MIDI message at time `when`: note-ons and note-offs on any channel count (a note-on
        of velocity 0 is a note-off); anything else is ignored."""
        if len(message) < 3:
            return  # realtime, clock and other short messages
        kind, note, velocity = message[0] & 0xF0, message[1], message[2]
        if kind == NOTE_ON and velocity > 0:
            self.note_on(note, when)
        elif kind in (NOTE_ON, NOTE_OFF):
            self.note_off(note, when)

    def note_on(self, note: int, when: float) -> None:
        self._complete_before(when)
        if self.request is None or note < LOWEST_NOTE:
            return  # MIDI 0 is no note a melody can hold
        self._down[note] = len(self._played)
        self._played.append(Played(note, when, None))

    def note_off(self, note: int, when: float) -> None:
        index = self._down.pop(note, None)
        if index is None or self.request is None:
            return
        self._played[index] = self._played[index]._replace(off=when)
        if self.request.rhythm and self._last_note_released():
            self._complete()

    def advance(self, now: float) -> None:
        """Time has passed: a capture whose end has come is complete."""
        request, heard = self.request, self._heard()
        if request is None or not heard:
            return
        if not request.rhythm and now >= heard[0].on + request.steps * request.step_seconds:
            self._complete()
        elif request.rhythm and len(heard) >= request.steps and now >= heard[-1].on + request.longest:
            self._release_all(now)
            self._complete()

    # -- told --------------------------------------------------------------------------------------
    def status(self, now: float) -> str:
        """One line for the REPL: `listening for 8 steps`, `heard 3 of 8 steps: C4 D4 _`,
        `captured C4 D4 E4 ...`."""
        self.advance(now)
        request = self.request
        last = f"captured {self.last}" if self.last is not None else None
        if request is None:
            return last or "not listening"
        prefix = "following: " if self.following else ""
        heard = self._heard()
        if not heard:
            after = f" ({last})" if last is not None and self.following else ""
            return f"{prefix}listening for {request.steps} {request.unit}{after}"
        if request.rhythm:
            count, text = len(heard), melody_text([key.note for key in heard[: request.steps]])
        else:
            elapsed = math.floor((now - heard[0].on) / request.step_seconds) + 1
            count = min(request.steps, max(1, elapsed))  # an event's time may be a hair after `now`
            melody = self._melody()
            text = melody_text(melody.notes[:count]) if melody is not None else ""
        return f"{prefix}heard {count} of {request.steps} {request.unit}: {text}"

    # -- within ------------------------------------------------------------------------------------
    def _arm(self, request: Request, following: bool) -> None:
        self.request, self.following = request, following
        self._forget_played()

    def _forget_played(self) -> None:
        self._played, self._down = [], {}

    def _heard(self) -> list[Played]:
        if self.request is None:
            return []
        return chords(self._played, chord_spread(self.request.step_seconds))

    def _complete_before(self, when: float) -> None:
        """A note struck at `when` past the capture's end completes it first (it may start the next)."""
        request, heard = self.request, self._heard()
        if request is None or not heard:
            return
        if request.rhythm:
            past = len(heard) >= request.steps and when - heard[-1].on >= chord_spread(request.step_seconds)
        else:
            past = when >= heard[0].on + (request.steps - 0.5) * request.step_seconds
        if past:
            self._release_all(when)
            self._complete()

    def _release_all(self, when: float) -> None:
        """Keys still down when a capture ends count as released then (held until at least then)."""
        self._played = [key if key.off is not None else key._replace(off=when) for key in self._played]

    def _last_note_released(self) -> bool:
        """With rhythm: the Nth note (every key of its chord) is up."""
        request, heard = self.request, self._heard()
        if request is None or len(heard) < request.steps:
            return False
        struck = heard[request.steps - 1].on
        spread = chord_spread(request.step_seconds)
        return all(key.off is not None for key in self._played if 0 <= key.on - struck < spread)

    def _melody(self) -> Melody | None:
        request = self.request
        if request is None:
            return None
        return quantise(self._played, request.steps, request.step_seconds, request.beat_seconds,
                        request.rhythm)

    def _complete(self) -> None:
        melody = self._melody()
        if melody is not None:
            self._ready = self.last = melody
        if not self.following:
            self.request = None
        self._forget_played()



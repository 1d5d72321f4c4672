"""Following an external MIDI clock (24 pulses a beat, start, stop, continue).

Two parts:

- `ClockFollower`: pure estimation from timestamped events (no port, no thread), unit-testable
  with synthetic times. Tempo is the least-squares slope of the last `window` pulse times (one
  beat by default), so a tempo change is fully followed one beat after it, and the ±1 ms of
  jitter a sender or JACK adds averages out. The beat time is read off the same fit (phase
  locked to the pulses, not to one jittery pulse).
- `ClockIn`: a JACK MIDI input (jack_input.py: read by a reader process of ours in JACK's cycle,
  each event timed by its frame), feeding a follower.

A pulse lost on the way (seen here when a realtime jackd skipped a client's cycle) would shift
the phase by 1/24 beat for good; a pulse held up on the way (a sender woken late) only comes late,
with the next ones bunched behind it. Both start with a gap of more than 1.6 pulse intervals (under
GAP, with no transport message between), and only the next pulse tells them apart: one interval
later, the gap was lost pulses, counted; right behind it, nothing was lost. So the pulse after a
gap is held back until the next one (the position meanwhile runs on from the pulse before).

Delays only ever make a pulse late, never early: the fitted line leaves out pulses far later than
the rest (a late one pulls the slope: one pulse a whole interval late at the end of a one-beat
window bends the tempo by 1%).

Position semantics (MIDI spec): after Start the first pulse is beat 0's downbeat; Stop holds the
position; Continue resumes it, the next pulse being the one after the last one counted. Pulses
that arrive while stopped (many drum machines keep sending clock) still update the tempo.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from ensemble.midi.jack_input import JackMidiInput

PPQN = 24
CLOCK, START, CONTINUE, STOP = 0xF8, 0xFA, 0xFB, 0xFC
MISSED = 1.6  # a pulse this many intervals after the last one: the ones between were lost, and counted
MIN_FIT = 12  # pulses: a new fit (after a pause or a change) replaces the held tempo once it has this many
GAP = 0.25  # seconds: a pulse this much later than expected starts a new tempo fit (e.g. after a pause)
# A tempo change: this many pulses in a row off the line through the ones before, on one side,
# each further off than the last (a tempo change drifts away; jitter and a JACK cycle's stamping
# scatter), the last by more than CHANGE_OFF, three times the line's own scatter and 15% of a
# pulse interval. The fit starts again from them, so a change is followed within MIN_FIT pulses
# (half a beat) instead of the window's whole beat.
CHANGE = 3
CHANGE_OFF = 0.003
BUNCHED = 0.5  # intervals: a pulse this soon after the one that came after a gap came bunched with it
# A pulse later than the fitted line by more than this many times the line's scatter (robust: from
# the median distance), and by more than CHANGE_OFF, is left out of the fit.
LATE = 3.0


@dataclass(frozen=True)
class ClockState:
    """What the follower knows, at one moment."""

    running: bool
    bpm: float | None  # None until two pulses have been seen
    beats: int  # whole beats since Start (held while stopped)
    pulses: int  # pulses since Start (held while stopped)
    last_beat_time: float | None  # when the last counted beat fell (fitted), seconds
    last_pulse_time: float | None  # when the last pulse arrived (raw), seconds
    missed: int = 0  # pulses inferred lost on the way, counted in `pulses` all the same
    # when the last counted pulse fell (fitted); None from a Continue until the next pulse
    last_counted_time: float | None = None

    def beat_at(self, when: float) -> float | None:
        """The (fractional) beat position at time `when`, extrapolated from the last pulse
        counted; held where it stopped while stopped, and from a Continue until the clock's
        next pulse (the position moves on with the pulses, not with the transport message)."""
        if self.bpm is None or self.pulses == 0:
            return None
        held = (self.pulses - 1) / PPQN
        if not self.running:
            return held
        if self.last_counted_time is None:
            return None
        return held + (when - self.last_counted_time) * self.bpm / 60.0

    def next_beat_time(self) -> float | None:
        """When the next beat is expected, at the present tempo."""
        if self.bpm is None or self.last_beat_time is None:
            return None
        return self.last_beat_time + 60.0 / self.bpm

    def label(self) -> str:
        """The toolbar's text: `ext 124.3 bpm`, `ext stopped`, `ext --`."""
        if self.bpm is None:
            return "ext --"
        return f"ext {self.bpm:.1f} bpm" if self.running else f"ext {self.bpm:.1f} bpm (stopped)"


class ClockFollower:
    """Tempo, phase and transport of an external 24-PPQN clock, from timestamped events."""

    def __init__(self, window: int = PPQN) -> None:
        if window < 2:
            raise ValueError("the tempo fit needs a window of at least 2 pulses")
        self.window = window
        self._fit: deque[tuple[int, float]] = deque(maxlen=window)  # (pulse serial, time)
        self._serial = 0  # every pulse ever seen, running or not: the fit's x axis
        self.running = False
        self.pulses = 0  # position: pulses counted since Start
        self.bpm: float | None = None
        self.last_beat_time: float | None = None
        self.last_pulse_time: float | None = None
        self._beat_serial: int | None = None  # the serial of the pulse of the last beat
        self.last_counted_time: float | None = None  # fitted time of the last pulse counted
        self.missed = 0  # pulses inferred lost (counted in the position all the same)
        self._steady = False  # whether the last event was a pulse (then a long gap means lost pulses)
        self._held: tuple[float, int] | None = None  # a pulse after a gap: (time, pulses lost if any)

    # events -------------------------------------------------------------------------------
    def feed(self, status: int, when: float) -> None:
        """One realtime message (its status byte) received at `when` seconds."""
        if status == CLOCK:
            self.pulse(when)
        elif status == START:
            self.start()
        elif status == CONTINUE:
            self.resume()
        elif status == STOP:
            self.stop()

    def start(self) -> None:
        self._flush()
        self.running, self.pulses, self._steady = True, 0, False
        self._fit.clear()
        self.last_beat_time, self._beat_serial, self.last_counted_time = None, None, None

    def resume(self) -> None:
        self._flush()
        self.running, self._steady, self.last_counted_time = True, False, None
        self._fit.clear()  # the pulses before the pause would bend the fit; the tempo is kept meanwhile

    def stop(self) -> None:
        self._flush()
        self.running, self._steady = False, False

    def pulse(self, when: float) -> None:
        self.last_pulse_time = when
        if self._held is not None:
            held, lost = self._held
            self._held = None
            interval = 60.0 / self.bpm / PPQN if self.bpm else 0.0
            self._take(held, 0 if when - held < BUNCHED * interval else lost)
        lost = self._lost_before(when)
        if lost:
            self._held = (when, lost)  # lost pulses, or this one held up: the next one tells
            return
        self._take(when, 0)

    def _lost_before(self, when: float) -> int:
        """How many pulses a gap before a pulse at `when` would have lost; clears the fit after a
        pause in the clock (the old pulses would bend it)."""
        if not self._fit or self.bpm is None:
            return 0
        interval, since = 60.0 / self.bpm / PPQN, when - self._fit[-1][1]
        if since > interval + GAP:
            self._fit.clear()
            return 0
        return round(since / interval) - 1 if self._steady and since > MISSED * interval else 0

    def _flush(self) -> None:
        """A transport message: a pulse held back after a gap is counted, nothing lost before it."""
        if self._held is not None:
            self._take(self._held[0], 0)
            self._held = None

    def _take(self, when: float, lost: int) -> None:
        """Counts a pulse received at `when`, `lost` pulses having been lost just before it."""
        self.missed += lost
        self._serial += 1 + lost
        self._fit.append((self._serial, when))
        self._restart_on_a_change()
        self._steady = True
        line = _line(list(self._fit))  # once a pulse: tempo, beat and position all read off it
        self._update_tempo(line)
        if not self.running:
            return
        for serial in range(self._serial - lost, self._serial + 1):
            if self.pulses % PPQN == 0:
                self._beat_serial = serial
            self.pulses += 1
        if self._beat_serial is not None:
            self.last_beat_time = self._fitted_time(line, self._beat_serial)
        # through a few pulses already, the line scatters less than the last pulse alone
        self.last_counted_time = when if line is None or len(self._fit) < CHANGE else line.at(self._serial)

    # estimation ---------------------------------------------------------------------------
    def _restart_on_a_change(self) -> None:
        if len(self._fit) < max(MIN_FIT, self.window // 2) + CHANGE:  # a line to be off: not a new fit's
            return
        points = list(self._fit)
        line = _line(points[:-CHANGE])
        assert line is not None
        off = [when - line.at(serial) for serial, when in points[-CHANGE:]]
        drifting = all(abs(later) > abs(earlier) for earlier, later in itertools.pairwise(off))
        one_side = all(gap > 0 for gap in off) or all(gap < 0 for gap in off)
        if one_side and drifting and abs(off[-1]) > max(CHANGE_OFF, 3 * line.scatter, 0.15 * line.slope):
            self._fit.clear()
            self._fit.extend(points[-CHANGE:])

    def _update_tempo(self, line: Line | None) -> None:
        enough = len(self._fit) >= min(MIN_FIT, self.window) or self.bpm is None
        if line is not None and line.slope > 0 and enough:
            self.bpm = 60.0 / (line.slope * PPQN)

    def _fitted_time(self, line: Line | None, serial: int) -> float:
        """The time of pulse `serial` on the fitted line, if it lies in the window; else as seen."""
        if line is None or serial < self._fit[0][0]:
            return self.last_beat_time if self.last_beat_time is not None else self._fit[-1][1]
        return line.at(serial)

    @property
    def beats(self) -> int:
        """Whole beats since Start whose downbeat pulse has been received."""
        return max(0, (self.pulses - 1) // PPQN) if self.pulses else 0

    def state(self) -> ClockState:
        return ClockState(self.running, self.bpm, self.beats, self.pulses, self.last_beat_time,
                          self.last_pulse_time, self.missed, self.last_counted_time)


class Line(NamedTuple):
    """Pulse times against pulse serials: seconds per pulse, and how far the pulses scatter."""

    slope: float
    intercept: float
    scatter: float  # root-mean-square distance of the pulses fitted, seconds

    def at(self, serial: int) -> float:
        return self.slope * serial + self.intercept


def _least_squares(points: Sequence[tuple[int, float]]) -> Line:
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_t = sum(t for _, t in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (t - mean_t) for x, t in points) / sxx
    intercept = mean_t - slope * mean_x
    scatter = (sum((t - slope * x - intercept) ** 2 for x, t in points) / n) ** 0.5
    return Line(slope, intercept, scatter)


def _line(points: Sequence[tuple[int, float]]) -> Line | None:
    """The least-squares line through (serial, time) points, fitted again without those far
    later than the rest (held up on the way); None under 2 points."""
    if len(points) < 2:
        return None
    line = _least_squares(points)
    if len(points) < 4:
        return line
    distances = sorted(abs(t - line.at(x)) for x, t in points)
    typical = 1.4826 * distances[len(distances) // 2]  # the scatter, were it normal (median based)
    kept = [(x, t) for x, t in points if t - line.at(x) <= max(CHANGE_OFF, LATE * typical)]
    return _least_squares(kept) if len(points) // 2 <= len(kept) < len(points) else line


class ClockIn:
    """A JACK MIDI input (see jack_input.py) that feeds a ClockFollower.

    `connect_to`: an existing output port to read (a part of its name, e.g. `drums:out`);
    None offers a port of our own (`client:port`) for the sender to connect to. Raises
    UserError when there is no JACK server or no such port. A port or server that goes is
    reported (`drain_messages`) and read again when it is back.
    """

    def __init__(self, connect_to: str | None = None, client: str = "ensemble-clock-in",
                 port: str = "clock-in", window: int = PPQN) -> None:
        self.follower = ClockFollower(window)
        self._lock = threading.Lock()
        self.arrivals: list[tuple[int, float, float]] = []  # (status, event time, handed on at)
        self._input = JackMidiInput(self._feed, connect_to, client=client, port=port, timing=True,
                                    label="clock in")

    def _feed(self, message: Sequence[int], when: float) -> None:
        arrived = time.monotonic()
        if message and message[0] in (CLOCK, START, CONTINUE, STOP):
            with self._lock:
                self.follower.feed(message[0], when)
                self.arrivals.append((message[0], when, arrived))

    @property
    def port_name(self) -> str:
        return self._input.port_name

    def state(self) -> ClockState:
        with self._lock:
            return self.follower.state()

    def drain_messages(self) -> list[str]:
        return self._input.drain_messages()

    def close(self) -> None:
        self._input.close()

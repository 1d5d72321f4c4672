"""Plays phrases in real (or virtual) time: hands them and their notes to the outputs ahead.

Due times always come from logical time (beats through the tempo map, from one origin),
never from when a thread woke up, so scheduling jitter moves only the hand-over, not the
music. The next phrase is composed just before it is handed over (COMPOSE_AHEAD), once the
current one's notes are out, so that a command lands on the first boundary that can still
take it; composing takes milliseconds, well inside that margin.

Where beats fall is the timeline's business: ensemble's own tempo, or one followed (Link, a
MIDI clock). A followed timeline is asked again while waiting, so a note takes the tempo of the
moment it is handed over, and while the source is stopped the music holds. An output that holds
a whole phrase (a Glicol program, MIDI clock pulses) is given its rest at a tempo that changed
mid-phrase (`retime`), from the next whole beat. Each output may be
nudged: its times moved earlier by its own latency, so that what is heard, not what is sent,
falls on the beat.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ensemble.clock import Clock
from ensemble.errors import UserError
from ensemble.events import ON_BEAT, Phrase, TimedNote
from ensemble.messages import Tells
from ensemble.mix import Mix
from ensemble.outputs.base import Output
from ensemble.sync.timeline import FreeTimeline, Timeline
from ensemble.tempo import TempoMap

log = logging.getLogger(__name__)

DEFAULT_LOOKAHEAD = 0.15  # seconds between handing a note over and its sounding
START_DELAY = 0.1  # after the outputs are open, before beat 0
RING_OUT = 0.5  # after the last phrase, before the outputs close
# Seconds before a phrase's hand-over that it is composed: learning 64 agents takes a few
# milliseconds, a listening agent's first attempt up to ~60 ms (it renders the notes it meets).
COMPOSE_AHEAD = 0.08
POLL = 0.02  # seconds between looks at the mix while waiting: a mute is passed on within this
# Seconds a followed tempo's change would move the end of the phrase playing, over which the
# outputs that hold whole phrases place its rest anew: a MIDI clock's estimate wavers a little
# at every pulse, and a Glicol program placed anew starts its chains anew.
RETIME_DRIFT = 0.002
MARGINS_KEPT = 4096  # notes whose margins are kept: a long show must not grow with every note


@dataclass
class Timing:
    """How early notes were handed over (due time minus hand-over time), in seconds: those of
    the last MARGINS_KEPT notes, and how many of all were late."""

    margins: deque[float] = field(default_factory=lambda: deque(maxlen=MARGINS_KEPT))
    late: int = 0
    dropped: int = 0  # notes a followed source left behind (it jumped, or resumed past them)

    def add(self, margin: float) -> None:
        self.margins.append(margin)
        self.late += margin < 0


class Conductor:
    def __init__(self, phrases: Iterable[Phrase], tempo: TempoMap, outputs: list[Output], clock: Clock,
                 lookahead: float = DEFAULT_LOOKAHEAD, when_open: Callable[[], None] = lambda: None,
                 require_output: bool = True, mix: Callable[[], Mix] | None = None,
                 compose_ahead: float | None = COMPOSE_AHEAD, timeline: Timeline | None = None,
                 follow_tempo: Callable[[float], None] = lambda bpm: None,
                 inputs: Iterable[Tells] = ()) -> None:
        self.phrases = phrases
        self.tempo = tempo
        self.timeline: Timeline = FreeTimeline(tempo) if timeline is None else timeline
        # Told a followed tempo before each phrase is composed, so that the phrase is made at it.
        self.follow_tempo = follow_tempo
        self.held = False  # a followed source is stopped: nothing new is handed over
        self.inputs = list(inputs)  # a MIDI clock, a keyboard: their lines are told as the outputs' are
        self.outputs = outputs
        self.clock = clock
        self.lookahead = lookahead
        self.when_open = when_open  # once the outputs are open, before beat 0 (e.g. real-time tuning)
        # Off for the REPL: with nothing to play on, the performance goes on in silence until the
        # performer adds an output.
        self.require_output = require_output
        # Who is heard, and how, now: each note is checked against it as it is handed over, and
        # outputs hear of a change within POLL. Without it, notes play as they were composed.
        self.mix = mix
        self._seen_mix: Mix | None = None
        # None: compose each phrase as soon as the one before is handed over, a whole phrase
        # ahead, as ensemble did before commands were heard at once (kept for comparison).
        self.compose_ahead = compose_ahead
        self.timing = Timing()
        self.origin = 0.0  # clock time of beat 0
        self.phrases_played = 0
        self.next_start = 0.0  # clock time of the next phrase that has not been handed over
        self._stop = threading.Event()
        self._changes: list[tuple[str, Output]] = []  # ("add" | "remove", output), at the next phrase
        self._next_timeline: tuple[Timeline, Callable[[], None]] | None = None  # and what to do after
        self._changes_lock = threading.Lock()

    def add_output(self, output: Output) -> None:
        """Open `output` and play on it too, from the next phrase (thread-safe)."""
        with self._changes_lock:
            self._changes.append(("add", output))

    def remove_output(self, output: Output) -> None:
        """Stop playing on `output` from the next phrase, and close it (thread-safe)."""
        with self._changes_lock:
            self._changes.append(("remove", output))

    def follow(self, timeline: Timeline | None, then: Callable[[], None] = lambda: None) -> None:
        """Place the beats on `timeline` (None: ensemble's own tempo again) from the next phrase,
        then call `then` (thread-safe). Followed, that phrase waits for the source's quantum."""
        with self._changes_lock:
            if self._next_timeline is not None:  # asked again before the boundary: both thens are due
                before, after = self._next_timeline[1], then

                def then() -> None:
                    before()
                    after()

            self._next_timeline = (FreeTimeline(self.tempo) if timeline is None else timeline, then)

    def stop(self) -> None:
        """Ask `run` to finish: what was handed over plays out, nothing new is sent."""
        self._stop.set()

    def run(self) -> None:
        self._open_outputs()
        self.when_open()
        try:
            self._play()
        finally:
            for output in list(self.outputs):
                self._call(output, "close")
            self._relay_messages()

    def _open_outputs(self) -> None:
        self.outputs = [output for output in self.outputs if self._open(output)]
        if not self.outputs and self.require_output:
            raise UserError("no output could be opened; nothing to play on")
        if not self.outputs:
            log.warning("no output could be opened: playing on in silence; `out add sc` or `out add midi` "
                        "to be heard")

    def _open(self, output: Output) -> bool:
        try:
            output.open(self.clock)
        except UserError as error:
            log.warning("%s", error)
            return False
        except Exception as error:  # a broken output must not keep the others from playing
            log.error("%s: could not open (%s: %s)", output.name, type(error).__name__, error)
            return False
        return True

    def _each(self, method: str, *args: object) -> None:
        for output in list(self.outputs):
            if not self._call(output, method, *args):
                self.outputs.remove(output)
                self._call(output, "close")
                self._relay(output)

    def _each_at(self, method: str, when: float, *args: object) -> None:
        """Call `method(*args, time)` on each output, the time moved earlier by its nudge."""
        for output in list(self.outputs):
            if not self._call(output, method, *args, when - output.nudge):
                self.outputs.remove(output)
                self._call(output, "close")
                self._relay(output)

    def _call(self, output: Output, method: str, *args: object) -> bool:
        """Call one output; one that raises is reported in a line and left out, never the others."""
        try:
            getattr(output, method)(*args)
        except Exception as error:
            log.error("%s: failed (%s: %s); dropped, the others play on", output.name,
                      type(error).__name__, error)
            return False
        return True

    def _play(self) -> None:
        if self.timeline.followed:
            self.follow_tempo(self.timeline.bpm())
        upcoming = iter(self.phrases)
        phrase = next(upcoming, None)
        origin = self._begin(0.0 if phrase is None else phrase.beats)
        if origin is None:
            return
        self.origin = origin
        end: float | None = self.origin
        while phrase is not None:
            if not self._switch_timeline(phrase):
                return
            start = self._reach(phrase.start_beat, self.lookahead)
            if start is None:
                return
            self.next_start = start
            self._apply_output_changes()
            self._each_at("phrase", start, phrase)
            following = next(upcoming, None) if self.compose_ahead is None else phrase
            if not self._hand_over(phrase):
                return
            self.phrases_played += 1
            self._relay_messages()
            end_beat = phrase.start_beat + phrase.beats
            if self.compose_ahead is None:
                phrase = following
                end = self.timeline.at(end_beat)
                continue
            # Compose the next phrase as late as is safe, so that a command typed meanwhile lands
            # on it: the next boundary more than the lookahead (and this margin) away.
            end = self._reach(end_beat, self.lookahead + self.compose_ahead)
            if end is None:
                return
            if self.timeline.followed:
                self.follow_tempo(self.timeline.bpm())
            phrase = next(upcoming, None)
        if end is not None:
            self._each_at("end", end)
            self.clock.sleep_until(end + RING_OUT, self._stop)

    def _begin(self, phrase_beats: float) -> float | None:
        """Beat 0's clock time: after the lookahead and a little more; followed, at the source's
        next quantum boundary from then, once it plays (None if stopped while waiting)."""
        told = False
        while True:
            origin = self.timeline.start(self.clock.now() + self.lookahead + START_DELAY, phrase_beats)
            if origin is not None:
                return origin
            if not told:
                log.warning("waiting for %s to play", self.timeline.name)
                told = True
            if not self._wait_until(self.clock.now() + POLL):
                return None

    def _switch_timeline(self, phrase: Phrase) -> bool:
        """A timeline asked for with `follow` takes over at this phrase (False if stopped)."""
        with self._changes_lock:
            change, self._next_timeline = self._next_timeline, None
        if change is None:
            return True
        timeline, then = change
        beat = phrase.start_beat
        when = self.timeline.at(beat)
        earliest = self.clock.now() + self.lookahead + START_DELAY if when is None else when
        self.timeline, self.held = timeline, False
        while timeline.start(earliest, phrase.beats, beat) is None:  # a source not playing yet
            if not self._wait_until(self.clock.now() + POLL):
                return False
            earliest = self.clock.now() + self.lookahead + START_DELAY
        then()
        log.warning("the beats follow %s from phrase %d", timeline.name, phrase.index + 1)
        return True

    def _hand_over(self, phrase: Phrase) -> bool:
        """The phrase's notes, each a lookahead ahead of its due time (False if stopped)."""
        if not self.timeline.followed:
            for note in self._timed_notes(phrase):
                if not self._wait_until(note.due - self.lookahead):
                    return False
                self._send(note)
            return True
        placed = phrase.tempo  # the tempo the outputs holding the whole phrase play it at
        for event in sorted(phrase.events(with_silent=self.mix is not None), key=lambda e: e.start):
            due = self._reach(event.start, self.lookahead)
            if due is None:
                return False
            placed = self._retime(phrase, event.start, placed)
            if due < self.clock.now() - self.lookahead:  # left behind by a jump or a resume
                self.timing.dropped += 1
                continue
            off = self.timeline.at(event.start + event.duration)
            self._send(TimedNote(event, due, (due + event.duration * 60.0 / self.timeline.bpm())
                                 if off is None else off - due))
        return True

    def _retime(self, phrase: Phrase, beat: float, placed: float) -> float:
        """If the followed tempo has moved off `placed`, the outputs holding the phrase are given
        its rest from the next beat at `beat` or after, at the new tempo; the tempo placed now."""
        bpm = self.timeline.bpm()
        left = (phrase.start_beat + phrase.beats - beat) * 60.0 / bpm
        if left * abs(1.0 - placed / bpm) <= RETIME_DRIFT:
            return placed
        rest = phrase.rest_from(math.ceil(beat - ON_BEAT), bpm)
        start = None if rest is None else self.timeline.at(rest.start_beat)
        if rest is None or start is None:
            return placed
        self._each_at("retime", start, rest)
        return bpm

    def _send(self, note: TimedNote) -> None:
        self.timing.add(note.due - self.clock.now())
        revised = self._revised(note)
        if revised is None:
            return
        for output in list(self.outputs):
            nudged = revised if not output.nudge else TimedNote(
                revised.event, revised.due - output.nudge, revised.duration)
            if not self._call(output, "note", nudged):
                self.outputs.remove(output)
                self._call(output, "close")
                self._relay(output)

    def _reach(self, beat: float, ahead: float) -> float | None:
        """Wait until `ahead` seconds before `beat`; its clock time (None if stopped first).
        A followed timeline is asked again every POLL: its tempo may change, or its source stop."""
        if not self.timeline.followed:
            when = self.timeline.at(beat)
            assert when is not None
            return when if self._wait_until(when - ahead) else None
        while True:
            when = self.timeline.at(beat)
            self._hold(when is None)
            if when is not None and self.clock.now() >= when - ahead:
                return when
            wake = self.clock.now() + POLL if when is None else when - ahead
            if not self._wait_until(min(wake, self.clock.now() + POLL)):
                return None

    def _hold(self, held: bool) -> None:
        """The source stopped (or played again): outputs fall silent at once, what was handed over
        for the lookahead ahead included (a drum machine stopped: so does ensemble)."""
        if held == self.held:
            return
        self.held = held
        if held:
            self._each_at("hold", self.clock.now())
        name = self.timeline.name
        log.warning("%s", f"{name} stopped: holding" if held else f"{name} plays again: going on")

    def _apply_output_changes(self) -> None:
        with self._changes_lock:
            changes, self._changes = self._changes, []
        for action, output in changes:
            if action == "add":
                if self._open(output):
                    self.outputs.append(output)
            elif output in self.outputs:
                self.outputs.remove(output)
                self._call(output, "close")
                self._relay(output)
        self._relay_messages()

    def _wait_until(self, when: float) -> bool:
        """Sleep until `when` (False if stopped first), looking at the mix every POLL meanwhile."""
        if self.mix is None:
            return self.clock.sleep_until(when, self._stop)
        while True:
            self._check_mix()
            self._relay_messages()  # an output's warning (falling behind, underruns) is told at once
            if not self.clock.sleep_until(min(when, self.clock.now() + POLL), self._stop):
                return False
            if self.clock.now() >= when:
                return True

    def _check_mix(self) -> None:
        """Tell the outputs when who is heard, or how, has changed: from the lookahead on."""
        if self.mix is None:
            return
        mix = self.mix()
        if mix is self._seen_mix:  # the session publishes a new one each phrase, most often equal
            return
        if self._seen_mix is not None and mix != self._seen_mix:
            self._each_at("remix", self.clock.now() + self.lookahead, mix)
        self._seen_mix = mix

    def _revised(self, note: TimedNote) -> TimedNote | None:
        if self.mix is None:
            return note
        event = self.mix().revise(note.event)
        if event is None:
            return None
        return note if event is note.event else TimedNote(event, note.due, note.duration)

    def _at(self, beat: float) -> float:
        when = self.timeline.at(beat)
        assert when is not None  # a free timeline always knows
        return when

    def _timed_notes(self, phrase: Phrase) -> list[TimedNote]:
        notes = []
        for event in phrase.events(with_silent=self.mix is not None):
            due = self._at(event.start)
            notes.append(TimedNote(event, due, self._at(event.start + event.duration) - due))
        return sorted(notes, key=lambda note: note.due)

    def _relay_messages(self) -> None:
        for output in [*self.outputs, *self.inputs]:
            self._relay(output)

    @staticmethod
    def _relay(output: Tells) -> None:
        for message in output.drain_messages():
            log.warning("%s", message)

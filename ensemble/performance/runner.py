"""One performance: a source played through a session and a conductor onto outputs.

The same runner plays a script, a journal or typed commands, live or offline: it owns the
session, the conductor (and its thread, when asked to run in the background) and the journal.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ensemble.clock import Clock
from ensemble.conductor import DEFAULT_LOOKAHEAD, Conductor
from ensemble.errors import UserError
from ensemble.messages import Tells
from ensemble.outputs.base import Output
from ensemble.performance.journal import JournalWriter, Recorder
from ensemble.performance.sources import Source, default_ear
from ensemble.session import Session
from ensemble.session_ports import Ear
from ensemble.sync.follow import Follow

if TYPE_CHECKING:
    from ensemble.midi.keyboard import Keyboard
    from ensemble.peers.band import Band
from ensemble.sync.timeline import FollowedTimeline

log = logging.getLogger(__name__)
STOP_WAIT = 5.0  # seconds to let the conductor close its outputs when stopping


class Runner:
    """`live`: commands may change the mix mid-phrase (the REPL, `play`); an offline render has
    nobody typing, so its conductor follows none."""

    def __init__(self, source: Source, outputs: list[Output], clock: Clock,
                 lookahead: float = DEFAULT_LOOKAHEAD, ear: Callable[[], Ear] | None = default_ear,
                 when_open: Callable[[], None] = lambda: None, require_output: bool = True,
                 live: bool = True, follow: Follow | None = None, keyboard: Keyboard | None = None,
                 band: Band | None = None) -> None:
        self.source = source
        self.clock = clock
        self.session = Session(seed=source.seed, ear=ear)
        self.recorder = Recorder(self.session)  # from the start, so `record on` may come at any time
        # Following Link or a MIDI clock: its beats place ours, its tempo is the session's.
        self.follow = follow
        timeline = None if follow is None else FollowedTimeline(follow.beats, follow.quantum)
        if follow is not None:
            self.session.outside_tempo = follow.beats
        self.keyboard = keyboard  # `--midi-in`: `seed midi` listens to it
        self.session.keyboard = keyboard
        self.band = band  # `--listen`: the other laptops; the session shares with them and takes from them
        self.session.outside = band
        inputs: list[Tells] = [] if keyboard is None else [keyboard]
        inputs += [] if follow is None else [follow.beats]
        inputs += [] if band is None else [band]
        self.conductor = Conductor(source.play(self.session), self.session.tempo, outputs, clock,
                                   lookahead=lookahead, when_open=when_open, require_output=require_output,
                                   mix=(lambda: self.session.mix) if live else None, timeline=timeline,
                                   follow_tempo=self.session.take_tempo, inputs=inputs)
        if band is not None:  # the shared timeline's beats, when there is one (Link)
            band.beat_offset = lambda: getattr(self.conductor.timeline, "offset", None)
        self.recorder.wall_time = self._wall_time  # each phrase line says when it began
        self.finished = threading.Event()
        self._thread: threading.Thread | None = None

    def link(self, on: bool) -> str:
        """Join a Link session (its tempo and quantum from the next phrase) or leave it."""
        from ensemble.sync import follow as following
        from ensemble.sync.link import LinkSession

        current = self.follow
        if current is not None and not isinstance(current.beats, LinkSession):
            raise UserError(f"following {current.beats.name}: Link cannot set the tempo too")
        if on == (current is not None):
            return f"Link is on already ({current.beats.label()})" if current else "Link is off already"
        if on:
            joined = following.link(self.session.tempo.bpm, None, start_stop=False)
            self._follow(joined)
            self.conductor.follow(FollowedTimeline(joined.beats, joined.quantum))
            return f"Link on: from the next phrase, on the session's quantum ({joined.beats.label()})"
        assert current is not None
        self._follow(None)
        self.conductor.follow(None, then=current.close)  # closed once nothing reads it any more
        return "Link off: ensemble's own tempo from the next phrase"

    def _wall_time(self, beat: float) -> float | None:
        """The wall-clock (Unix) time at which `beat` sounds, once the conductor has placed beat 0
        (it does so after the first phrase is composed: until then, None)."""
        if not self.conductor.phrases_played:
            return None
        when = self.conductor.timeline.at(beat)
        return None if when is None else self.clock.unix(when)

    def _follow(self, follow: Follow | None) -> None:
        self.follow = follow
        self.session.outside_tempo = None if follow is None else follow.beats

    def run(self) -> None:
        """Play to the end (or until stopped) in this thread."""
        try:
            self.conductor.run()
        finally:
            self.finished.set()
            self.stop_recording()
            if self.follow is not None:
                self.follow.close()
            if self.keyboard is not None:
                self.keyboard.close()
            if self.band is not None:
                self.band.close()

    def start(self) -> None:
        """Play in a thread of the runner's own; `stop` ends it."""
        self._thread = threading.Thread(target=self._run_in_background, name="conductor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """All notes off, outputs closed, the journal flushed."""
        self.conductor.stop()
        if self._thread is not None:
            self._thread.join(timeout=STOP_WAIT)
        self.stop_recording()

    def record(self, path: Path) -> JournalWriter:
        """Record to `path`; the file appears once the performance has a phrase or a command to
        keep, so a performance that never starts (no output could be opened) leaves none."""
        return self.recorder.start(path, [output.name for output in self.conductor.outputs])

    def stop_recording(self) -> Path | None:
        """Close the journal; its path, or None when nothing was recorded."""
        writer = self.recorder.stop()
        if writer is None or not writer.created:
            return None
        if writer.failure is None:
            log.info("recorded %s", writer.path)
        else:  # the performer was told when it stopped being saved, and why
            log.info("recorded %s (it stops %s)", writer.path, writer.stops)
        return writer.path

    def _run_in_background(self) -> None:
        try:
            self.run()
        except UserError as error:
            log.error("%s", error)

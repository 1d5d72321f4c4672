"""One performance: a source played through a session and a conductor onto outputs.

The same runner plays a script, a journal or typed commands, live or offline: it owns the
session, the conductor (and its thread, when asked to run in the background) and the journal.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from ensemble.clock import Clock
from ensemble.conductor import DEFAULT_LOOKAHEAD, Conductor
from ensemble.errors import UserError
from ensemble.outputs.base import Output
from ensemble.performance.journal import JournalWriter, Recorder
from ensemble.performance.sources import Source, default_ear
from ensemble.session import Ear, Session

log = logging.getLogger(__name__)
STOP_WAIT = 5.0  # seconds to let the conductor close its outputs when stopping


class Runner:
    """`live`: commands may change the mix mid-phrase (the REPL, `play`); an offline render has
    nobody typing, so its conductor follows none."""

    def __init__(self, source: Source, outputs: list[Output], clock: Clock,
                 lookahead: float = DEFAULT_LOOKAHEAD, ear: Callable[[], Ear] | None = default_ear,
                 when_open: Callable[[], None] = lambda: None, require_output: bool = True,
                 live: bool = True) -> None:
        self.source = source
        self.clock = clock
        self.session = Session(seed=source.seed, ear=ear)
        self.recorder = Recorder(self.session)  # from the start, so `record on` may come at any time
        self.conductor = Conductor(source.play(self.session), self.session.tempo, outputs, clock,
                                   lookahead=lookahead, when_open=when_open, require_output=require_output,
                                   mix=(lambda: self.session.mix) if live else None)
        self.finished = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        """Play to the end (or until stopped) in this thread."""
        try:
            self.conductor.run()
        finally:
            self.finished.set()
            self.stop_recording()

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

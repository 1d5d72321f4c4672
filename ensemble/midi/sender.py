"""A thread that sends each MIDI message when it is due: mido sends at once, so timing is ours.

Messages wait in a priority queue by due time; the thread sleeps until just before the next
one and then waits out the rest precisely. It remembers which notes are sounding, so that it
can silence them all when told to, when it stops, and when the port goes away.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import mido

from ensemble.clock import Clock

# The lowest realtime priority: ahead of every ordinary thread, behind JACK's own (jack2's server
# runs at 10 by default, its clients' threads near it). At 40, spinning out the last SPIN before
# each message, it was seen to starve JACK's threads on two cores: a missed cycle a message or so.
REALTIME_PRIORITY = 1
SPIN = 0.0015  # seconds before a message's due time at which sleeping gives way to waiting closely
ALL_NOTES_OFF = 123  # controller number


class MidiSender:
    def __init__(self, clock: Clock, send: Callable[[mido.Message], None],
                 on_error: Callable[[Exception], None]) -> None:
        self.clock = clock
        self._send = send
        self._on_error = on_error
        self._queue: list[tuple[float, int, mido.Message]] = []
        self._order = itertools.count()  # equal due times keep the order they were queued in
        self._wake = threading.Condition()
        self._stopping = False
        self._sounding: set[tuple[int, int]] = set()  # (channel, note) with a note_on sent
        self.lateness: list[float] = []  # seconds each note_on went out after its due time
        self._thread = threading.Thread(target=self._run, name="midi-sender", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def schedule(self, due: float, message: mido.Message) -> None:
        with self._wake:
            heapq.heappush(self._queue, (due, next(self._order), message))
            self._wake.notify()

    def drop_from(self, due: float, kind: str) -> None:
        """Drop the queued messages of type `kind` (e.g. `clock`) due at `due` or later."""
        with self._wake:
            self._queue = [item for item in self._queue if item[0] < due or item[2].type != kind]
            heapq.heapify(self._queue)
            self._wake.notify()

    def silence(self) -> None:
        """Drop everything queued and end every note that is sounding."""
        with self._wake:
            self._queue.clear()
            hanging = sorted(self._sounding)
        for channel, note in hanging:
            self._deliver(mido.Message("note_off", channel=channel, note=note))
        for channel in sorted({channel for channel, _ in hanging}):
            self._deliver(mido.Message("control_change", channel=channel, control=ALL_NOTES_OFF))

    def forget_sounding(self) -> None:
        """The port went away, and every note on it with it."""
        with self._wake:
            self._sounding.clear()

    def stop(self) -> None:
        """Stop sending; nothing is left sounding."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
        self._thread.join(timeout=2.0)
        self.silence()

    def _run(self) -> None:
        _ask_for_realtime_priority()
        while True:
            with self._wake:
                while not self._stopping and (not self._queue or
                                              self._queue[0][0] - self.clock.now() > SPIN):
                    timeout = self._queue[0][0] - self.clock.now() - SPIN if self._queue else None
                    self._wake.wait(timeout)
                if self._stopping:
                    return
                due, _, message = self._queue[0]
            while self.clock.now() < due:  # the last moment, waited closely
                time.sleep(0)
            with self._wake:
                if not self._queue or self._queue[0][0] != due:  # silenced, or something came first
                    continue
                heapq.heappop(self._queue)
            if message.type == "note_on":
                self.lateness.append(self.clock.now() - due)
            self._deliver(message)

    def _deliver(self, message: Any) -> None:
        try:
            self._send(message)
        except Exception as error:
            self._on_error(error)
            return
        key = (message.channel, message.note) if message.type in ("note_on", "note_off") else None
        if key is None:
            return
        with self._wake:
            if message.type == "note_on" and message.velocity > 0:
                self._sounding.add(key)
            else:
                self._sounding.discard(key)


def _ask_for_realtime_priority() -> None:
    """Run this thread ahead of ordinary processes when the system allows it (root, or rtprio).

    A busy machine otherwise delays the moment a due message leaves by milliseconds; where it
    is not allowed, the sender still works, with ordinary priority.
    """
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or not allowed
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(REALTIME_PRIORITY))  # 0: this thread

"""Ableton Link through `aalink` (optional extra `ensemble[link]`, GPL like Link itself).

Link shares tempo and *phase* (the position inside a quantum of beats), not beat numbers: two
peers with the same quantum agree on where every quantum boundary falls, each with its own beat
count. So ensemble agrees on "bar 0" with its peers only up to a whole quantum: a phrase starts on
a quantum boundary (quantum = one phrase's length in beats), and which boundary is a peer's first
phrase is that peer's own affair.

Times returned here are on `time.monotonic()`, the time line of `ensemble.clock.RealtimeClock`
(the conductor's clock). Link's own clock is CLOCK_MONOTONIC_RAW on Linux (aalink's `Link.time`);
we never convert between the two: a boundary is computed from the current phase and tempo and
the monotonic instant at which they were read, which is exact while the tempo stays the same.

aalink's `Link` wants a running asyncio loop for its callbacks; `LinkSession` runs one in a
daemon thread of its own, so the rest of ensemble (threads, no asyncio) need not know.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from ensemble.errors import UserError
from ensemble.sync.timeline import Reading

INSTALL_HINT = "Ableton Link needs the optional extra: pip install 'ensemble[link]' (aalink, GPL)"


class LinkUnavailable(UserError):
    """aalink is not installed."""


def load_aalink() -> Any:
    """The `aalink` module, or LinkUnavailable with the one line that says how to install it."""
    try:
        import aalink
    except ImportError as error:
        raise LinkUnavailable(INSTALL_HINT) from error
    return aalink


class LinkSession:
    """One Link peer: join with `enable()`, leave with `close()`.

    Nothing is sent on the network until `enable()`. As a beat source (see sync/timeline.py)
    it plays while the session does when start/stop sync is on, always otherwise.
    """

    name = "the Link session"

    def __init__(self, tempo: float = 120.0, quantum: float = 4.0) -> None:
        aalink = load_aalink()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="link", daemon=True)
        self._thread.start()

        async def make() -> Any:  # aalink takes the running loop at construction
            return aalink.Link(float(tempo))

        self._link = asyncio.run_coroutine_threadsafe(make(), self._loop).result(5)
        self._link.quantum = float(quantum)
        self._tempo_listeners: list[Callable[[float], None]] = []
        self._playing_listeners: list[Callable[[bool], None]] = []
        self._peers_listeners: list[Callable[[int], None]] = []
        self._link.set_tempo_callback(lambda bpm: self._tell(self._tempo_listeners, float(bpm)))
        self._link.set_start_stop_callback(lambda playing: self._tell(self._playing_listeners, bool(playing)))
        self._link.set_num_peers_callback(lambda peers: self._tell(self._peers_listeners, int(peers)))
        self._closed = False

    # -- session -------------------------------------------------------------------------------
    def enable(self, start_stop_sync: bool = False) -> None:
        """Join the session (multicast on every interface from now on)."""
        self._link.start_stop_sync_enabled = start_stop_sync
        self._link.enabled = True

    def disable(self) -> None:
        self._link.enabled = False

    @property
    def enabled(self) -> bool:
        return bool(self._link.enabled)

    @property
    def peers(self) -> int:
        return int(self._link.num_peers)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._link.enabled = False
        for remove in (self._link.set_tempo_callback, self._link.set_start_stop_callback,
                       self._link.set_num_peers_callback):
            remove(lambda *_: None)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(2)
        self._link = None

    def __enter__(self) -> LinkSession:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- tempo and phase -----------------------------------------------------------------------
    @property
    def tempo(self) -> float:
        return float(self._link.tempo)

    @tempo.setter
    def tempo(self, bpm: float) -> None:
        """Changes the tempo for every peer (Link takes it from now, keeping the phase)."""
        if not 20.0 <= bpm <= 999.0:  # Link's own range
            raise ValueError(f"tempo {bpm} outside Link's 20-999 bpm")
        self._link.tempo = float(bpm)

    @property
    def quantum(self) -> float:
        return float(self._link.quantum)

    @quantum.setter
    def quantum(self, beats: float) -> None:
        if beats <= 0:
            raise ValueError("quantum must be a positive number of beats")
        self._link.quantum = float(beats)

    def snapshot(self) -> tuple[float, float, float, float]:
        """(monotonic time, beat, phase, tempo) read together: the time is the middle of the reads."""
        before = time.monotonic()
        beat, phase, bpm = self._link.beat, self._link.phase, self._link.tempo
        after = time.monotonic()
        return (before + after) / 2, float(beat), float(phase), float(bpm)

    def next_boundary(self, quantum: float | None = None, min_ahead: float = 0.0) -> float:
        """Monotonic time of the next quantum boundary at least `min_ahead` seconds from now.

        `quantum` other than the session's is allowed for a multiple/divisor of it (e.g. a beat);
        Link's phase is always against the session quantum set with `quantum`.
        """
        now, _beat, phase, bpm = self.snapshot()
        q = self.quantum
        step = q if quantum is None else float(quantum)
        seconds_per_beat = 60.0 / bpm
        # beats until the next boundary of the session quantum, then whole `step`s from there
        to_boundary = (q - phase) % q
        if step != q:
            to_boundary = to_boundary % step
        if to_boundary < 1e-9:
            to_boundary = 0.0
        ahead = min_ahead / seconds_per_beat
        if to_boundary < ahead:
            to_boundary += math.ceil((ahead - to_boundary) / step) * step
        return now + to_boundary * seconds_per_beat

    # -- as a beat source ---------------------------------------------------------------------
    def reading(self) -> Reading:
        now, beat, _phase, bpm = self.snapshot()
        return Reading(now, beat, bpm, self.playing if self.start_stop_sync else True)

    def align(self, quantum: float) -> None:
        self.quantum = quantum

    def set_tempo(self, bpm: float) -> None:
        """A `tempo` command: every peer's tempo, from now."""
        try:
            self.tempo = bpm
        except ValueError as error:
            raise UserError(str(error)) from None

    def drain_messages(self) -> list[str]:
        return []  # Link has nothing to tell: peers come and go, the toolbar shows how many

    def label(self) -> str:
        """The toolbar's text: `link 2 peers 120.0 bpm`."""
        peers = self.peers
        return f"link {peers} peer{'s' * (peers != 1)} {self.tempo:.1f} bpm"

    # -- start/stop ----------------------------------------------------------------------------
    @property
    def start_stop_sync(self) -> bool:
        return bool(self._link.start_stop_sync_enabled)

    @start_stop_sync.setter
    def start_stop_sync(self, on: bool) -> None:
        self._link.start_stop_sync_enabled = on

    @property
    def playing(self) -> bool:
        return bool(self._link.playing)

    @playing.setter
    def playing(self, on: bool) -> None:
        """Start or stop every peer that syncs start/stop (needs `start_stop_sync` on here too)."""
        self._link.playing = on

    # -- listeners (called on the link thread: keep them short) --------------------------------
    def on_tempo(self, listener: Callable[[float], None]) -> None:
        self._tempo_listeners.append(listener)

    def on_playing(self, listener: Callable[[bool], None]) -> None:
        self._playing_listeners.append(listener)

    def on_peers(self, listener: Callable[[int], None]) -> None:
        self._peers_listeners.append(listener)

    @staticmethod
    def _tell(listeners: list[Callable[[Any], None]], value: Any) -> None:
        for listener in list(listeners):
            listener(value)

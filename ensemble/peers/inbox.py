"""What the agents on other laptops shared, kept until the phrase it belongs to.

Locally, an agent's attempt in a phrase copies what its predecessor had learned by the end of
the phrase before. A laptop shares its agents' melodies as soon as a phrase is composed, stamped
with that phrase's beat, and the share arrives while the receiver still plays the phrase before
(composition runs a lookahead ahead): so, for the phrase starting at beat B, the receiver takes
the share stamped latest before B (of two with one stamp, the one sent last: the higher
sequence number). On one Link timeline every laptop's beats are the same beats; without one
(None) the one sent last is taken: a laptop that restarted counts its beats from 0 again, but its
numbers go on from the wall clock (endpoint.py).

Filled by the peers' receiving thread, read on the composing thread; safe from any thread.
"""

from __future__ import annotations

import threading
from collections import deque

from ensemble.melody import Melody
from ensemble.peers.names import SEPARATOR
from ensemble.peers.wire import Share

KEPT = 8  # shares kept per agent: enough for phrases shared a few ahead of their time


class Inbox:
    """Per `alice/a3`, its last few melodies with their beats; what was taken last."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._heard: dict[str, deque[tuple[float, int, Melody]]] = {}  # (beat, seq, melody)
        self._taken: dict[str, Melody] = {}

    def put(self, share: Share) -> None:
        with self._lock:
            for shared in share.melodies:
                kept = self._heard.setdefault(f"{share.sender}{SEPARATOR}{shared.agent}", deque(maxlen=KEPT))
                kept.append((share.beat, share.seq, Melody(shared.notes, shared.lengths)))

    def take(self, before: float | None, wanted: set[str]) -> dict[str, Melody]:
        """For each of `wanted`, the melody stamped latest before beat `before` (the one sent
        last when None), where it differs from the one taken last: followers keep what they have
        until something new comes."""
        taken = {}
        with self._lock:
            for target in sorted(wanted):
                ready = [(beat if before is not None else 0.0, seq, melody)
                         for beat, seq, melody in self._heard.get(target, ())
                         if before is None or beat < before]
                if not ready:
                    continue
                melody = max(ready, key=lambda entry: entry[:2])[2]
                if self._taken.get(target) != melody:
                    self._taken[target] = taken[target] = melody
        return taken

    def sharing(self) -> tuple[str, ...]:
        """Every agent heard of (`alice/a3`), for completion."""
        with self._lock:
            return tuple(sorted(self._heard))

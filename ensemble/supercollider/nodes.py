"""Node ids for one client of a SuperCollider server."""

from __future__ import annotations

import threading

from pythonosc.osc_message import OscMessage

FIRST_ID = 10_000  # below: ids other tools and the server's own groups tend to use
ID_COUNT = 1 << 20


class NodeIds:
    """Hands out ids in a fixed range, round-robin, skipping any node still alive.

    The server's `/n_end` notifications (after `/notify 1`) say which ids are free again.
    """

    def __init__(self, first: int = FIRST_ID, count: int = ID_COUNT) -> None:
        self.first, self.count = first, count
        self._next = 0
        self._alive: set[int] = set()
        self._lock = threading.Lock()

    def allocate(self) -> int:
        with self._lock:
            for _ in range(self.count):
                node = self.first + self._next
                self._next = (self._next + 1) % self.count
                if node not in self._alive:
                    self._alive.add(node)
                    return node
        raise RuntimeError(f"all {self.count} node ids are in use")

    def observe(self, reply: OscMessage) -> None:
        """Feed every message from the server; `/n_end` frees its node's id."""
        if reply.address == "/n_end" and reply.params:
            with self._lock:
                self._alive.discard(int(reply.params[0]))

    def reset(self) -> None:
        """A (re)started server has no nodes of ours."""
        with self._lock:
            self._alive.clear()

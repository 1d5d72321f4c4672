"""One-line messages for the performer, queued from any thread and told by the conductor."""

from __future__ import annotations

from collections import deque
from typing import Protocol


class Tells(Protocol):
    """Anything with lines for the performer: an output, a MIDI input, a beat source."""

    def drain_messages(self) -> list[str]: ...


class Talks:
    """Queues lines under its `name` (an output's, `midi in`, ...); `report` is safe from any
    thread, an audio callback or a MIDI input's reader included (a deque's append is atomic)."""

    name = ""

    def __init__(self) -> None:
        self._messages: deque[str] = deque()

    def report(self, message: str) -> None:
        self._messages.append(f"{self.name}: {message}")

    def drain_messages(self) -> list[str]:
        drained = []
        while self._messages:
            drained.append(self._messages.popleft())
        return drained

"""What a performance has done so far, kept small enough for a show of any length.

The journal is the full record: its commands, replayed with its seed, give back every attempt.
A session keeps only what its status, the report's tables and the plot draw on:

- per agent, for each phrase it played in, three bytes: how many steps it played as its target
  (its accuracy), whether it played the seed exactly, whether it was muted;
- per phrase, how many steps it had;
- melodies only over bounded stretches: each agent's last few heard attempts (the status), the
  heard attempts of the last HELD_PHRASES phrases (the piano roll), and the last phrase whole,
  practice attempts too (a replay's checksum).

At 64 agents that is about 200 bytes a phrase, where every attempt kept was about 22 KB.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ensemble.learning.chain import Attempt

HELD_PHRASES = 128  # phrases whose melodies are held: the piano roll draws them (128 s at 1 s a phrase)
RECENT_ATTEMPTS = 8  # heard attempts held per agent, for its recent accuracy in the status

# Bits of an agent's flags in a phrase.
AS_SEED = 1  # it played the seed exactly
MUTED = 2  # it was muted when the phrase was composed
ABSENT = 4  # it made no heard attempt (a gap; the chain never leaves one, but nothing relies on it)


class Column:
    """A one-dimensional numpy array that grows at its end a chunk at a time: appending never
    copies what is stored, and at most one chunk (up to LARGEST_CHUNK values) stands unused.
    An integer too large for the dtype widens it, rather than wrapping round."""

    FIRST_CHUNK = 64
    LARGEST_CHUNK = 4096

    def __init__(self, dtype: type[np.generic]) -> None:
        self._dtype = np.dtype(dtype)
        self._max = int(np.iinfo(self._dtype).max)
        self._chunks: list[np.ndarray] = []  # full ones
        self._stored = 0  # values in the full chunks
        self._chunk = np.empty(self.FIRST_CHUNK, self._dtype)
        self._used = 0

    def __len__(self) -> int:
        return self._stored + self._used

    def append(self, value: int) -> None:
        if value > self._max:
            self._widen(value)
        if self._used == len(self._chunk):
            self._chunks.append(self._chunk)
            self._stored += len(self._chunk)
            self._chunk = np.empty(min(2 * len(self._chunk), self.LARGEST_CHUNK), self._dtype)
            self._used = 0
        self._chunk[self._used] = value
        self._used += 1

    def values(self) -> np.ndarray:
        """Everything appended, in order (a copy)."""
        return np.concatenate([*self._chunks, self._chunk[:self._used]])

    def _widen(self, value: int) -> None:
        self._dtype = np.min_scalar_type(value)
        self._max = int(np.iinfo(self._dtype).max)
        self._chunks = [chunk.astype(self._dtype) for chunk in self._chunks]
        self._chunk = self._chunk.astype(self._dtype)


class Track:
    """One agent's record, one entry per phrase from the first it played in: an agent plays in
    every phrase from its spawn to its kill, and names are never reused."""

    def __init__(self, first: int) -> None:
        self.first = first  # the phrase index of the first entry
        self.hits = Column(np.uint16)  # steps played as the target
        self.flags = Column(np.uint8)

    @property
    def end(self) -> int:
        """The phrase after the last entry."""
        return self.first + len(self.hits)

    def add(self, hits: int, flags: int) -> None:
        self.hits.append(hits)
        self.flags.append(flags)


@dataclass(frozen=True)
class Scores:
    """An agent's heard attempts, in order: phrase index, accuracy against its target, whether
    it played the seed exactly, whether it was muted (arrays of one length)."""

    phrase: np.ndarray
    accuracy: np.ndarray
    as_seed: np.ndarray
    muted: np.ndarray

    def __len__(self) -> int:
        return len(self.phrase)


class HeldPhrase:
    """One phrase's heard attempts as arrays (notes fit in int8: MIDI 1..127 and REST = -1;
    lengths, with rhythm, in int16 ticks)."""

    def __init__(self, index: int, attempts: Sequence[Attempt], muted: Iterable[str],
                 names: tuple[str, ...]) -> None:
        self.index = index
        self.names = names
        self.played = np.array([a.played for a in attempts], dtype=np.int8)
        self.targets = np.array([a.target for a in attempts], dtype=np.int8)
        rhythmic = any(a.lengths is not None for a in attempts)
        self.lengths = _lengths([a.lengths for a in attempts]) if rhythmic else None
        self.target_lengths = _lengths([a.target_lengths for a in attempts]) if rhythmic else None
        self.rewards = np.array([a.reward for a in attempts], dtype=np.float64)
        quiet = set(muted)
        self.muted = np.array([a.agent in quiet for a in attempts], dtype=bool)

    def hits_and_flags(self, seed: tuple[int, ...],
                       seed_lengths: tuple[int, ...] | None = None) -> tuple[list[int], list[int]]:
        """Per attempt: steps played as its target (note and length); AS_SEED and MUTED as they apply."""
        hit = self.played == self.targets
        if self.lengths is not None and self.target_lengths is not None:
            hit &= self.lengths == self.target_lengths
        hits = hit.sum(axis=1)
        as_seed = (self.played == np.array(seed)).all(axis=1) if len(seed) == self.played.shape[1] else False
        if self.lengths is not None and seed_lengths is not None and len(seed) == self.played.shape[1]:
            as_seed &= (self.lengths == np.array(seed_lengths)).all(axis=1)
        flags = np.where(as_seed, AS_SEED, 0) | np.where(self.muted, MUTED, 0)
        return hits.tolist(), flags.tolist()

    def attempts(self) -> list[Attempt]:
        lengths, wanted = _rows(self.lengths, len(self.names)), _rows(self.target_lengths, len(self.names))
        return [Attempt(name, tuple(target), tuple(played), reward, True, length, wanted_length)
                for name, target, played, reward, length, wanted_length in zip(
                    self.names, self.targets.tolist(), self.played.tolist(), self.rewards.tolist(), lengths,
                    wanted, strict=True)]

    def muted_names(self) -> frozenset[str]:
        return frozenset(name for name, muted in zip(self.names, self.muted.tolist(), strict=True) if muted)


def _lengths(rows: list[tuple[int, ...] | None]) -> np.ndarray:
    return np.array(rows, dtype=np.int16)


def _rows(values: np.ndarray | None, count: int) -> list[tuple[int, ...] | None]:
    return [None] * count if values is None else [tuple(row) for row in values.tolist()]


class History:
    """Every phrase's scores, compactly, and melodies over bounded stretches (see the module)."""

    def __init__(self, held_phrases: int = HELD_PHRASES, recent_attempts: int = RECENT_ATTEMPTS) -> None:
        self.phrases = 0  # phrases recorded
        self.practice = 0  # silent attempts made with `train`, outside the phrases
        self.last: list[Attempt] = []  # the last phrase's attempts, practice ones too
        self._steps = Column(np.uint16)  # steps of each phrase (0 when nobody played)
        self._tracks: dict[str, Track] = {}  # every agent that ever played, in order of first appearance
        self._recent: dict[str, deque[Attempt]] = {}  # the agents of the last phrase
        self._recent_attempts = recent_attempts
        self._held: deque[HeldPhrase] = deque(maxlen=held_phrases)

    def record(self, attempts: list[Attempt], seed: tuple[int, ...], muted: Iterable[str],
               seed_lengths: tuple[int, ...] | None = None) -> None:
        """One phrase's attempts, with the seed melody (and its lengths, with rhythm) and who was
        muted when it was composed."""
        index = self.phrases
        heard = [a for a in attempts if a.heard]
        names = tuple(a.agent for a in heard)
        if self._held and self._held[-1].names == names:
            names = self._held[-1].names  # one tuple shared while the chain stays the same
        phrase = HeldPhrase(index, heard, muted, names)
        self._steps.append(len(attempts[0].played) if attempts else 0)
        hits, flags = phrase.hits_and_flags(seed, seed_lengths) if heard else ([], [])
        for row, attempt in enumerate(heard):
            track = self._tracks.get(attempt.agent)
            if track is None:
                track = self._tracks[attempt.agent] = Track(index)
            while track.end < index:
                track.add(0, ABSENT)
            track.add(hits[row], flags[row])
            self._recent.setdefault(attempt.agent, deque(maxlen=self._recent_attempts)).append(attempt)
        playing = set(names)
        for gone in [name for name in self._recent if name not in playing]:  # killed
            del self._recent[gone]
        self._held.append(phrase)
        self.last = attempts
        self.phrases += 1

    # -- what the status, the report and the plot ask ------------------------------------------

    def recent(self, agent: str, count: int) -> list[Attempt]:
        """The agent's last heard attempts, oldest first: `count` at most, and no more than
        were held (RECENT_ATTEMPTS)."""
        held = self._recent.get(agent, ())
        return list(held)[-count:] if count > 0 else []

    @property
    def agents(self) -> list[str]:
        """Every agent that ever played, in the order they first did."""
        return list(self._tracks)

    def scores(self, agent: str) -> Scores:
        """All the agent's heard attempts, from the compact record (none for an unknown agent)."""
        track = self._tracks.get(agent)
        if track is None:
            empty = np.zeros(0)
            return Scores(empty.astype(np.int64), empty, empty.astype(bool), empty.astype(bool))
        flags = track.flags.values()
        heard = (flags & ABSENT) == 0
        phrase = np.arange(track.first, track.end)[heard]
        steps = self._steps.values()[phrase]
        # float64 true division of two small integers: the very float `accuracy()` gives
        accuracy = track.hits.values()[heard].astype(np.float64) / steps
        return Scores(phrase, accuracy, (flags[heard] & AS_SEED) != 0, (flags[heard] & MUTED) != 0)

    def steps(self) -> np.ndarray:
        """The number of steps of each phrase (0 where nobody played)."""
        return self._steps.values()

    @property
    def held(self) -> list[HeldPhrase]:
        """The last phrases whose heard melodies are held, oldest first."""
        return list(self._held)

    @property
    def attempts(self) -> list[list[Attempt]]:
        """The heard attempts of the phrases held (the last HELD_PHRASES), oldest first; those of
        earlier phrases are in the journal. `first_held` is the index of the first."""
        return [phrase.attempts() for phrase in self._held]

    @property
    def first_held(self) -> int:
        return self._held[0].index if self._held else self.phrases

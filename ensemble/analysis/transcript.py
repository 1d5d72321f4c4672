"""What every agent played, phrase by phrase, measured: a script or a journal replayed through
the session (the real code path, without sound) while an observer notes each heard attempt.

Only the measures are kept, a few floats per agent a phrase, not the melodies: a show of any
length fits. The seed is read from the session each phrase, so every way it changes (`seed`,
a keyboard's capture journaled as `seed`, a transposition) is seen the same way.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ensemble import commands as cmd
from ensemble import measures
from ensemble.events import Phrase
from ensemble.learning.chain import SEED, Attempt, agent_number
from ensemble.melody import Melody
from ensemble.performance.script import load_script
from ensemble.performance.sources import Source, is_journal, load_source, rehearse, script_source
from ensemble.session import Session


@dataclass(frozen=True)
class Measure:
    """One thing measured of each attempt: its key, a short heading, what it means, and how
    many decimals it is worth."""

    key: str
    heading: str
    meaning: str
    decimals: int


FIDELITY = Measure("fidelity", "fidelity", "1 - normalised edit distance of the pitches to its target", 2)
ONSETS = Measure("onsets", "onset fid.", "1 - normalised edit distance of the onsets to its target's", 2)
DRIFT = Measure("drift", "drift", "normalised edit distance of the pitches from the seed", 2)
PITCHES = Measure("pitches", "pitches", "how many different pitches", 1)
INTERVAL = Measure("interval", "|interval|", "mean absolute interval, semitones (rests skipped)", 1)
ENTROPY = Measure("entropy", "entropy", "entropy of the intervals, bits", 2)
ARCH = Measure("arch", "arch", "correlation of the pitch with an arch over the phrase, -1..1", 2)
MEASURES = (FIDELITY, ONSETS, DRIFT, PITCHES, INTERVAL, ENTROPY, ARCH)
SHAPE = (PITCHES, INTERVAL, ENTROPY, ARCH)  # what is measured of a melody alone: the seed's too


def shape(notes: Sequence[int], lengths: Sequence[int] | None) -> dict[str, float]:
    """The measures of a melody alone (NaN where one has no value)."""
    return {PITCHES.key: float(measures.pitch_set_size(notes)),
            INTERVAL.key: _number(measures.mean_absolute_interval(notes)),
            ENTROPY.key: _number(measures.interval_entropy(notes)),
            ARCH.key: _number(measures.arch_score(notes, lengths))}


def measured(attempt: Attempt, seed: tuple[int, ...]) -> dict[str, float]:
    """Every measure of one attempt, against its own target and the seed of its phrase."""
    onsets = math.nan
    if attempt.lengths is not None and attempt.target_lengths is not None:
        onsets = 1.0 - measures.onset_distance(attempt.played, attempt.lengths, attempt.target,
                                              attempt.target_lengths)
    return {FIDELITY.key: measures.copy_fidelity(attempt.played, attempt.target), ONSETS.key: onsets,
            DRIFT.key: measures.drift(attempt.played, seed), **shape(attempt.played, attempt.lengths)}


def _number(value: float | None) -> float:
    return math.nan if value is None else value


@dataclass(frozen=True)
class SeedChange:
    """The seed from phrase `phrase` (counted from 0) on, until the next change."""

    phrase: int
    melody: Melody
    lengths: tuple[int, ...] | None  # in ticks, when lengths were in play

    def shape(self) -> dict[str, float]:
        return shape(self.melody.notes, self.lengths)


@dataclass
class Series:
    """One agent's heard attempts, one a phrase from its spawn to its kill: the phrase, its
    generation and whom it copied then, and each measure (NaN where it has no value)."""

    name: str
    phrases: array[int] = field(default_factory=lambda: array("l"))
    generations: array[int] = field(default_factory=lambda: array("l"))
    copies: list[str] = field(default_factory=list)
    values: dict[str, array[float]] = field(default_factory=lambda: {m.key: array("d") for m in MEASURES})

    def add(self, phrase: int, generation: int, copies: str, values: Mapping[str, float]) -> None:
        self.phrases.append(phrase)
        self.generations.append(generation)
        self.copies.append(copies)
        for key, column in self.values.items():
            column.append(values[key])

    def __len__(self) -> int:
        return len(self.phrases)

    def mean(self, key: str, start: int, stop: int) -> float | None:
        """The mean of a measure over attempts start..stop-1, those without a value left out;
        None when none has one."""
        values = [v for v in self.values[key][start:stop] if not math.isnan(v)]
        return sum(values) / len(values) if values else None

    def first(self, key: str, window: int) -> float | None:
        return self.mean(key, 0, window)

    def last(self, key: str, window: int) -> float | None:
        return self.mean(key, max(0, len(self) - window), len(self))

    def since(self, phrase: int) -> int:
        """The index of its first attempt in or after `phrase` (len when none)."""
        return bisect_left(self.phrases, phrase)


@dataclass(frozen=True)
class Recovery:
    """After a change of the seed, per agent that played before and after it: how many heard
    attempts it took to copy its target as faithfully as before (`fidelity`), and to come as close
    to the seed as before (`to_seed`, from 1 - drift: the change has reached it down the chain),
    as measures.recovery counts them; None when it had not by the next change or the end. And
    how many attempts that was watched over."""

    change: SeedChange
    fidelity: dict[str, int | None]
    to_seed: dict[str, int | None]
    watched: dict[str, int]


@dataclass
class Transcript:
    """A performance measured: every agent's series, in the order each first played, and the
    seed phrase by phrase."""

    name: str
    phrases: int = 0
    seeds: list[SeedChange] = field(default_factory=list)
    agents: dict[str, Series] = field(default_factory=dict)

    @property
    def rhythmic(self) -> bool:
        """Whether lengths were ever in play (the onset measure has values)."""
        return any(not math.isnan(v) for series in self.agents.values() for v in series.values[ONSETS.key])

    def spans(self) -> list[tuple[SeedChange, int]]:
        """Each seed, with the phrase after its last (the next change's first, or the end)."""
        ends = [change.phrase for change in self.seeds[1:]] + [self.phrases]
        return list(zip(self.seeds, ends, strict=True))

    def perturbations(self) -> list[SeedChange]:
        """Every change of the seed after the first phrase."""
        return self.seeds[1:]

    def recoveries(self, level_over: int = measures.LEVEL_OVER) -> list[Recovery]:
        """The recovery of every agent after each change of the seed."""
        found = []
        for change, until in self.spans()[1:]:
            fidelity: dict[str, int | None] = {}
            to_seed: dict[str, int | None] = {}
            watched: dict[str, int] = {}
            for name, series in self.agents.items():
                at, end = series.since(change.phrase), series.since(until)
                if at == 0 or at == end:
                    continue  # not there before the change, or not after it
                fidelity[name] = measures.recovery(series.values[FIDELITY.key][:end], at, level_over)
                closeness = [1.0 - drift for drift in series.values[DRIFT.key][:end]]
                to_seed[name] = measures.recovery(closeness, at, level_over)
                watched[name] = end - at
            found.append(Recovery(change, fidelity, to_seed, watched))
        return found


def generations(follows: Mapping[str, str]) -> dict[str, int]:
    """Each agent's place in the chain: 1 for one copying the seed, or an agent on another
    laptop (its place there is not known here), one more than its target's for one copying an
    agent here. A loop the seed does not feed (the last agent copied by the first) is counted
    from its member spawned first."""
    depth: dict[str, int] = {}
    for start in follows:
        path: list[str] = []
        node = start
        while node in follows and node not in depth and node not in path:
            path.append(node)
            node = follows[node]
        if node in path:  # a loop: its earliest member leads it
            loop = path[path.index(node):]
            lead = loop.index(min(loop, key=agent_number))
            for place in range(len(loop)):  # loop[k] copies loop[k + 1]: followers come before
                depth[loop[(lead - place) % len(loop)]] = place + 1
        for name in reversed(path):
            if name not in depth:
                depth[name] = depth.get(follows[name], 0) + 1
    return depth


class _Listener:
    """Observes a session: measures every heard attempt of every phrase composed."""

    def __init__(self, session: Session, transcript: Transcript) -> None:
        self.session = session
        self.transcript = transcript

    def applied(self, phrase: int, beat: float, command: cmd.Command) -> None:
        pass

    def composed(self, phrase: int, attempts: list[Attempt]) -> None:
        chain, transcript = self.session.chain, self.transcript
        transcript.phrases = phrase + 1
        melody = chain.melody
        if not transcript.seeds or transcript.seeds[-1].melody != melody:
            lengths = melody.ticks(chain.step_length) if chain.rhythmic else None
            transcript.seeds.append(SeedChange(phrase, melody, lengths))
        depth = generations(chain.follows)
        for attempt in attempts:
            if not attempt.heard:
                continue  # practice, unheard: its learning shows in the next heard attempt
            series = transcript.agents.setdefault(attempt.agent, Series(attempt.agent))
            series.add(phrase, depth.get(attempt.agent, 1), chain.follows.get(attempt.agent, SEED),
                       measured(attempt, melody.notes))


def transcribe(source: Source) -> Transcript:
    """Play `source` through a silent session, measuring every heard attempt. A script's bad
    line raises `file:line: message` (as a render's check does)."""
    transcript = Transcript(source.name)

    def play(session: Session) -> Iterator[Phrase]:
        session.observe(_Listener(session, transcript))
        yield from source.play(session)

    rehearse(replace(source, play=play), keyboard=True)  # `seed midi`: nobody plays, the seed stays
    return transcript


def transcribe_file(path: Path, seed: int | None = None) -> Transcript:
    """A script (with `seed`, default 0) or a journal (with its own seed; another is refused)."""
    if is_journal(path):
        return transcribe(load_source(path, seed))
    return transcribe(script_source(load_script(path), seed or 0, str(path)))

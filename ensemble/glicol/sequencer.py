"""Phrases -> Glicol programs, landed in the engine so that notes fall on the phrase grid.

Glicol's `seq` spans one bar and counts samples from the moment its chain was created, so
the engine's bar is set to one phrase and each chain's grid is fixed at its creation:
- while the shape holds (same chains, voices and phrase length), only notes change; the
  update goes in one block before the boundary and every onset stays sample-exact;
- when the shape changes (an agent arrives, a voice or the phrase length changes, or the
  engine was restarted), every chain is created anew under a new generation name in the
  block that holds the boundary, so all chains share a grid at most one block (2.9 ms) early.

A rhythmic phrase (notes of their own lengths) gives each agent a chain per length it plays
(lanes.py), on the same bar; an agent keeps the lanes of the phrase before while they fit, so a
new rhythm is usually only new notes.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from ensemble.events import Part, Phrase, Sound
from ensemble.glicol.engine import BLOCK, SAMPLE_RATE, GlicolEngine
from ensemble.glicol.lanes import Timed, choose_lanes, lane_of, onset_sample, seq_steps, timed_notes
from ensemble.glicol.program import FAINTEST_NOTE, Voice, chain
from ensemble.melody import REST
from ensemble.rhythm import TICKS_PER_BEAT

LEVEL = 0.5  # one voice's peak; the mix is scaled by 1/sqrt(voices) and then limited


@dataclass(frozen=True)
class _Shape:
    """What a program's chains are made of; while it holds, chains keep their grid."""

    n_steps: int  # 0 when rhythmic
    phrase_samples: int
    step_seconds: float  # 0.0 when rhythmic
    sounds: tuple[tuple[str, Sound], ...]  # (agent, sound) per chain, or per agent when rhythmic
    lanes: tuple[tuple[int, ...], ...] = ()  # rhythmic: per agent, the note lengths of its chains


@dataclass(frozen=True)
class _Cue:
    start_sample: int  # where logical time puts the phrase
    shape: _Shape
    parts: tuple[Part, ...]
    hushed: frozenset[str] = frozenset()  # agents whose chains play rests (muted), notes kept
    voices: int = 0  # how many were composed to be heard: the mix is scaled by it, all phrase long
    # Rhythmic: each part's notes in ticks, the phrase's ticks, a tick in seconds, and the lanes
    # whose voice changed mid-phrase, (agent, lane, voice).
    timed: tuple[tuple[Timed, ...], ...] = ()
    ticks: int = 0
    tick_seconds: float = 0.0
    swapped: tuple[tuple[str, int, str], ...] = ()


@dataclass(frozen=True)
class _Revision:
    muted: frozenset[str] | None  # agents muted from then on (None: as they are)
    sounds: Mapping[str, Sound]  # their sounds from then on
    voices: bool  # whether a new voice may land with it
    lane: int | None = None  # rhythmic: a new voice for this lane only (its next note)


def _revised(cue: _Cue, muted: frozenset[str] | None, sounds: Mapping[str, Sound], voices: bool,
             shape: bool = False) -> _Cue:
    """The cue with these agents muted (None: as they were) and these sounds; `shape`: for a cue
    not landed yet, whose shape may change (it then lands as a new generation, on the grid)."""
    parts = tuple(_retuned(part, sounds.get(part.agent), voices) for part in cue.parts)
    hushed = cue.hushed if muted is None else muted & {part.agent for part in cue.parts}
    revised = replace(cue, parts=parts, hushed=hushed)
    if shape and parts != cue.parts:
        revised = replace(revised, shape=replace(cue.shape, sounds=tuple((p.agent, p.sound) for p in parts)))
    return revised


def _swapped(cue: _Cue, sounds: Mapping[str, Sound], lane: int) -> _Cue:
    """The rhythmic cue with this lane of each agent in `sounds` in its new voice."""
    swapped = {(agent, at): voice for agent, at, voice in cue.swapped}
    swapped.update({(agent, lane): sound.voice for agent, sound in sounds.items()})
    return replace(cue, swapped=tuple((agent, at, voice) for (agent, at), voice in sorted(swapped.items())))


def _retuned(part: Part, sound: Sound | None, voice: bool = False) -> Part:
    """The part with the amp and cutoff of `sound` (and its voice, if `voice`)."""
    if sound is None:
        return part
    changed = replace(part.sound, amp=sound.amp, cutoff=sound.cutoff,
                      voice=sound.voice if voice else part.sound.voice)
    return part if changed == part.sound else replace(part, sound=changed)


def bpm_for_bar(samples: int) -> float:
    """A bpm at which Glicol's bar is exactly `samples` long, as the engine computes it."""
    bpm = np.float32(240.0 * SAMPLE_RATE / samples)
    while int(240.0 / float(bpm) * SAMPLE_RATE) < samples:  # the engine truncates
        bpm = np.nextafter(bpm, np.float32(0.0))
    return float(bpm)


class GlicolSequencer:
    """Feeds one Glicol engine phrase by phrase and pulls its audio block by block."""

    def __init__(self, engine: GlicolEngine, voices: dict[str, Voice]) -> None:
        self.engine = engine
        self.voices = voices
        self.blocks_done = 0
        self.phrase_starts: list[int] = []  # engine sample at which each landed cue begins
        self._queue: deque[_Cue] = deque()
        self._shape: _Shape | None = None
        self._origin = 0  # sample where the current generation's grid starts
        self._landed_in_generation = 0
        self._generation = 0
        self._restarted = False
        self._playing: _Cue | None = None  # the cue landed last: what plays now
        # Revisions of the phrase playing, in block order: (block, order, revision).
        self._revisions: list[tuple[int, int, _Revision]] = []
        self._revision_order = itertools.count()

    def schedule(self, phrase: Phrase, start_sample: int, with_silent: bool = False) -> None:
        """Queue a phrase that should start at `start_sample` (from logical time).

        `with_silent` (live): muted agents get chains too, playing rests, so that an unmute mid-
        phrase changes only notes and every chain keeps its place on the grid.
        """
        parts = phrase.parts + phrase.silent if with_silent else phrase.parts
        samples = round(phrase.beats * 60.0 / phrase.tempo * SAMPLE_RATE)
        sounds = tuple((p.agent, p.sound) for p in parts)
        hushed = frozenset(part.agent for part in phrase.silent) if with_silent else frozenset()
        if phrase.rhythmic:
            self._queue.append(self._rhythmic_cue(phrase, parts, start_sample, samples, sounds, hushed))
            return
        shape = _Shape(n_steps=phrase.n_steps, phrase_samples=samples, step_seconds=phrase.step_seconds,
                       sounds=sounds)
        self._queue.append(_Cue(start_sample, shape, parts, hushed, len(phrase.parts)))

    def _rhythmic_cue(self, phrase: Phrase, parts: tuple[Part, ...], start_sample: int, samples: int,
                      sounds: tuple[tuple[str, Sound], ...], hushed: frozenset[str]) -> _Cue:
        ticks = round(phrase.beats * TICKS_PER_BEAT)
        timed = tuple(timed_notes(part, phrase.step_beats, ticks) for part in parts)
        before = self._queue[-1].shape if self._queue else self._shape
        kept = dict(zip((agent for agent, _ in before.sounds), before.lanes, strict=False)) if before else {}
        lanes = tuple(choose_lanes((length for _, length, _ in notes), kept.get(part.agent, ()))
                      for part, notes in zip(parts, timed, strict=True))
        shape = _Shape(n_steps=0, phrase_samples=samples, step_seconds=0.0, sounds=sounds, lanes=lanes)
        return _Cue(start_sample, shape, parts, hushed, len(phrase.parts), timed, ticks,
                    60.0 / phrase.tempo / TICKS_PER_BEAT)

    def silence_from(self, start_sample: int) -> None:
        """From a phrase boundary on, every voice rests and its last note rings out."""
        last = self._queue[-1] if self._queue else None
        shape = last.shape if last else self._shape
        if shape is None:
            return
        if shape.lanes:  # rhythmic: every lane rests
            cue = last or self._playing
            rests = tuple(Part(agent, (REST,), sound) for agent, sound in shape.sounds)
            self._queue.append(_Cue(start_sample, shape, rests, frozenset(), len(rests), ((),) * len(rests),
                                    1, cue.tick_seconds if cue else 0.0))
            return
        rests = tuple(Part(agent, (REST,) * shape.n_steps, sound) for agent, sound in shape.sounds)
        self._queue.append(_Cue(start_sample, shape, rests, frozenset(), len(rests)))

    def revise_from(self, muted: frozenset[str], sounds: Mapping[str, Sound], start_sample: int) -> None:
        """From `start_sample`, the phrase playing goes on with the muted agents' notes as rests,
        the others' as composed (an agent unmuted is heard again if the phrase has its chain), and
        each agent's amp and cutoff as in `sounds`: only notes and parameters change, which keeps
        every chain's place on the grid. A new voice lands at the agent's next note: the engine
        keeps a swapped synth on the grid but sounds it once as it swaps, a blip its note covers."""
        self._revise_at(max(start_sample // BLOCK, self.blocks_done), muted, sounds, voices=False)

    def _revise_at(self, block: int, muted: frozenset[str] | None, sounds: Mapping[str, Sound],
                   voices: bool, lane: int | None = None) -> None:
        revision = _Revision(muted, sounds, voices, lane)
        heapq.heappush(self._revisions, (block, next(self._revision_order), revision))

    def render(self, n_blocks: int) -> np.ndarray:
        """The next `n_blocks` blocks, shape (n_blocks, 2, 128), landing programs on time."""
        out = np.zeros((n_blocks, 2, BLOCK), dtype=np.float32)
        done = 0
        while done < n_blocks:
            self._land_due()
            self._revise_due()
            end = self.blocks_done + (n_blocks - done)
            if self._queue:
                end = min(end, self._landing_block(self._queue[0]))
            if self._revisions:
                end = min(end, max(self._revisions[0][0], self.blocks_done + 1))
            count = end - self.blocks_done
            self.engine.render_into(out[done: done + count])
            done += count
            self.blocks_done += count
            self._restarted |= self.engine.take_restart()
        return out

    @property
    def queued(self) -> int:
        return len(self._queue)

    def hungry_at(self) -> int:
        """The block by which the next phrase must be scheduled so that it lands on the grid.

        Projects the landings of the queued cues without making them: rendering up to this
        block lands each of them on its way.
        """
        shape, origin, landed = self._shape, self._origin, self._landed_in_generation
        restarted, now = self._restarted, self.blocks_done
        for cue in self._queue:
            if cue.shape == shape and not restarted:
                landed += 1
            else:
                origin, landed, restarted = max(cue.start_sample // BLOCK, now) * BLOCK, 1, False
            shape = cue.shape
        if shape is None:
            return now
        return max(now, (origin + landed * shape.phrase_samples - BLOCK) // BLOCK)

    # -- internals --------------------------------------------------------------------------

    def _land_due(self) -> None:
        while self._queue and self._landing_block(self._queue[0]) <= self.blocks_done:
            self._land(self._queue.popleft())

    def _revise_due(self) -> None:
        while self._revisions and self._revisions[0][0] <= self.blocks_done:
            _, _, revision = heapq.heappop(self._revisions)
            muted, sounds, voices = revision.muted, revision.sounds, revision.voices
            # Phrases waiting to land may have been composed before the change: they take it too.
            self._queue = deque(_revised(cue, muted, sounds, voices=True, shape=True) for cue in self._queue)
            cue = self._playing
            if cue is None or self._restarted:
                continue
            if revision.lane is None:
                revised = _revised(cue, muted, sounds, voices)
            else:
                revised = _swapped(cue, sounds, revision.lane)
            if revised != cue:
                self._playing = revised
                self.engine.update(self._program(revised, new_generation=False))
            if not voices:
                self._revise_voices_at_next_notes(revised, sounds)

    def _revise_voices_at_next_notes(self, cue: _Cue, sounds: Mapping[str, Sound]) -> None:
        """Each agent whose voice changed gets it at its next note in this phrase."""
        start = self.phrase_starts[-1] if self.phrase_starts else 0
        samples = cue.shape.phrase_samples
        if cue.shape.lanes:
            self._revise_lanes_at_next_notes(cue, sounds, start)
            return
        for part in cue.parts:
            sound = sounds.get(part.agent)
            if sound is None or sound.voice == part.sound.voice or sound.voice not in self.voices:
                continue
            onsets = [start + step * samples // len(part.notes) for step, note in enumerate(part.notes)
                      if note != REST]
            # In the block the note starts in: the swap's blip joins the note's onset, at most one
            # block (2.9 ms) early, as a new chain's does. (Swapped mid-note, a synth was heard to
            # start off its note.)
            later = [onset // BLOCK for onset in onsets if onset // BLOCK >= self.blocks_done]
            if later:
                self._revise_at(later[0], None, {part.agent: sound}, voices=True)

    def _revise_lanes_at_next_notes(self, cue: _Cue, sounds: Mapping[str, Sound], start: int) -> None:
        """Rhythmic: each of the agent's lanes takes the new voice at its own next note (a swap
        sounds the synth once, which only a note can cover); a lane with no note left keeps the
        old voice, and the next phrase, a new shape, starts anew."""
        bar = 240.0 / bpm_for_bar(cue.shape.phrase_samples) * SAMPLE_RATE
        swapped = {(agent, lane): voice for agent, lane, voice in cue.swapped}
        for part, notes, lanes in zip(cue.parts, cue.timed, cue.shape.lanes, strict=True):
            sound = sounds.get(part.agent)
            if sound is None or sound.voice not in self.voices:
                continue
            for lane in lanes:
                if swapped.get((part.agent, lane), part.sound.voice) == sound.voice:
                    continue
                blocks = [(start + onset_sample(tick, cue.ticks, bar)) // BLOCK
                          for tick, length, _ in notes if lane_of(length, lanes) == lane]
                later = [block for block in blocks if block >= self.blocks_done]
                if later:
                    self._revise_at(later[0], None, {part.agent: sound}, voices=True, lane=lane)

    def _continues(self, cue: _Cue) -> bool:
        return cue.shape == self._shape and not self._restarted

    def _landing_block(self, cue: _Cue) -> int:
        if self._continues(cue):
            boundary = self._origin + self._landed_in_generation * cue.shape.phrase_samples
            return (boundary - BLOCK) // BLOCK
        return max(cue.start_sample // BLOCK, self.blocks_done)

    def _land(self, cue: _Cue) -> None:
        new_generation = not self._continues(cue)
        if new_generation:
            self._generation += 1
            self._landed_in_generation = 0
            self._origin = self.blocks_done * BLOCK
            self._restarted = False
            self.engine.set_bpm(bpm_for_bar(cue.shape.phrase_samples))  # one bar = one phrase
        self.phrase_starts.append(self._origin + self._landed_in_generation * cue.shape.phrase_samples)
        self._landed_in_generation += 1
        self._shape = cue.shape
        self._playing = cue
        self.engine.update(self._program(cue, new_generation))

    def _program(self, cue: _Cue, new_generation: bool) -> str:
        if not cue.parts:
            return ""
        # The mix is scaled by the voices composed to be heard; a mute mid-phrase leaves it be.
        level = LEVEL / np.sqrt(max(1, cue.voices))
        if cue.shape.lanes:
            return self._rhythmic_program(cue, new_generation, level)
        return "\n".join(
            chain(f"{part.agent}_{self._generation}",
                  (REST,) * len(part.notes) if part.agent in cue.hushed else part.notes,
                  self.voices[part.sound.voice], cue.shape.step_seconds, level * part.sound.amp,
                  part.sound.cutoff, new=new_generation)
            for part in cue.parts
        )

    def _rhythmic_program(self, cue: _Cue, new_generation: bool, level: float) -> str:
        """A chain per lane, named by agent, generation and lane length (in ticks)."""
        swapped = {(agent, lane): voice for agent, lane, voice in cue.swapped}
        lines = []
        for part, notes, lanes in zip(cue.parts, cue.timed, cue.shape.lanes, strict=True):
            hushed = part.agent in cue.hushed
            heard = () if hushed else notes
            loudest = max((note for _, _, note in heard), default=None)  # one level for all its lanes
            # Muted, its chains fall silent at once: a long note ringing on would be heard for seconds.
            amp = 0.0 if hushed else part.sound.amp
            for lane in lanes:
                onsets = [(tick, note) for tick, length, note in heard if lane_of(length, lanes) == lane]
                voice = self.voices[swapped.get((part.agent, lane), part.sound.voice)]
                lines.append(chain(f"{part.agent}_{self._generation}_l{lane}", seq_steps(onsets, cue.ticks),
                                   voice, lane * cue.tick_seconds, level * amp, part.sound.cutoff,
                                   new=new_generation, loudest=loudest, inaudible=FAINTEST_NOTE))
        return "\n".join(lines)

"""The ear: rewards from comparing rendered audio, with every note rendered only once.

Each note an agent may play is rendered through the same Glicol voice the audience hears,
and its spectrum kept, keyed by (voice, cutoff, step length): a listening attempt after the
first is a gather and a dot product, close to the cost of a symbolic one.
"""

from __future__ import annotations

import numpy as np

from ensemble.glicol.notes import NoteRenderer
from ensemble.glicol.program import load_voices
from ensemble.listening.features import SPECTRUM_SIZE, similarity, spectrum
from ensemble.melody import REST
from ensemble.voicing import Timbre

N_NOTES = 128  # MIDI notes; one more row holds the rest
ENVELOPE_NOTE = 69  # the note whose loudness over time stands for every note's (see Ear._envelope)


class _Spectra:
    """The spectra of one timbre's notes, filled in as they are first needed."""

    def __init__(self) -> None:
        # Row index = MIDI note; REST (-1) indexes the last row, as numpy counts from the end.
        self.rows = np.zeros((N_NOTES + 1, SPECTRUM_SIZE))
        self.known = np.zeros(N_NOTES + 1, dtype=bool)
        self.rows[REST] = spectrum(np.zeros(0))  # a rest is silence, in any voice
        self.known[REST] = True


__all__ = ["Ear", "Timbre"]


class Ear:
    """Listens for the agents: renders each note it is asked about once, then compares spectra;
    with rhythm, also how loud each attempt is over time against its target (`timing`)."""

    def __init__(self, renderer: NoteRenderer | None = None) -> None:
        self.renderer = renderer or NoteRenderer(load_voices())
        self._spectra: dict[Timbre, _Spectra] = {}
        self._envelopes: dict[tuple[str, float, int, float], np.ndarray] = {}
        self._likeness: dict[tuple[Timbre, Timbre, float, int, int], float] = {}

    def timing(self, played_timbre: Timbre, target_timbre: Timbre, tick_seconds: float,
               played: np.ndarray, played_lengths: np.ndarray, target: np.ndarray,
               target_lengths: np.ndarray) -> np.ndarray:
        """Per-step timing rewards in [-1, 1], heard: each step's note and its target's, rendered
        at their own lengths, compared as they sound from their onsets on (a rest as the silence
        it leaves: the shorter over the longer), squared so that a note half as long as its
        target scores below 0 and an agent keeps searching rather than settling for one that
        sounds half right. Each step is heard from its own onset: a step's length is judged on its
        own, even while an earlier one is wrong (with every length right, so is every onset).
        Lengths in ticks of `tick_seconds`; arrays (rows, steps)."""
        heard = np.empty(target.shape)
        for row, step in np.ndindex(*target.shape):
            heard[row, step] = self._alike(played_timbre, target_timbre, tick_seconds,
                                           (int(played[row, step]), int(played_lengths[row, step])),
                                           (int(target[row, step]), int(target_lengths[row, step])))
        return 2.0 * heard**2 - 1.0

    def _alike(self, mine_timbre: Timbre, their_timbre: Timbre, tick_seconds: float,
               mine: tuple[int, int], theirs: tuple[int, int]) -> float:
        """How alike two steps (note, length in ticks) sound from their onsets on, from 0 to 1."""
        (my_note, my_length), (their_note, their_length) = mine, theirs
        if my_note == REST and their_note == REST:
            return min(my_length, their_length) / max(my_length, their_length)
        # A note against a rest is the pitch reward's to judge: here both are heard as notes, so
        # that a length is judged the same whichever note (or rest) was tried with it.
        # Pitch plays no part: what two lengths sound like side by side is worked out once.
        key = (mine_timbre, their_timbre, round(tick_seconds, 9), my_length, their_length)
        alike = self._likeness.get(key)
        if alike is None:
            span = max(my_length, their_length)
            a, b = np.zeros(span), np.zeros(span)
            a[:my_length] = self._envelope(mine_timbre, my_length, tick_seconds)
            b[:their_length] = self._envelope(their_timbre, their_length, tick_seconds)
            louder = float(np.maximum(a, b).sum())  # the loudness they share, over all either has
            alike = self._likeness[key] = float(np.minimum(a, b).sum()) / louder if louder > 0 else 1.0
        return alike

    def _envelope(self, timbre: Timbre, length: int, tick_seconds: float) -> np.ndarray:
        """RMS per tick of one note `length` ticks long in `timbre`: a voice's envelope follows the
        note's length, not its pitch, so one reference note (A4) stands for all."""
        key = (timbre.voice, timbre.cutoff, length, round(tick_seconds, 9))
        envelope = self._envelopes.get(key)
        if envelope is None:
            audio = self.renderer.render(timbre.voice, ENVELOPE_NOTE, length * tick_seconds, timbre.cutoff)
            frame = max(1, len(audio) // length)
            frames = audio[: frame * length].astype(np.float64).reshape(length, frame)
            envelope = self._envelopes[key] = np.sqrt(np.mean(frames**2, axis=1))
        return envelope

    def rewards(self, played: np.ndarray, played_timbre: Timbre, target: np.ndarray,
                target_timbre: Timbre) -> np.ndarray:
        """Per-step rewards in [-1, 1]: 1 when a step sounds like its target, -1 when nothing alike.

        `played` and `target` are notes of the same shape; each timbre applies to all of them.
        """
        mine = self.spectra(played_timbre, played)
        theirs = self.spectra(target_timbre, target)
        return 2.0 * similarity(mine, theirs) - 1.0

    def spectra(self, timbre: Timbre, notes: np.ndarray) -> np.ndarray:
        """The spectrum of each of `notes` played in `timbre`, shape notes.shape + (features,)."""
        table = self._spectra.get(timbre)
        if table is None:
            table = self._spectra[timbre] = _Spectra()
        if not table.known[notes].all():
            for note in np.unique(notes[~table.known[notes]]):
                audio = self.renderer.render(timbre.voice, int(note), timbre.step_seconds, timbre.cutoff)
                table.rows[note] = spectrum(audio)
                table.known[note] = True
        return table.rows[notes]

    @property
    def renders(self) -> int:
        return self.renderer.renders

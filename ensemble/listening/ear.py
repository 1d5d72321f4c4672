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
    """Listens for the agents: renders each note it is asked about once, then compares spectra."""

    def __init__(self, renderer: NoteRenderer | None = None) -> None:
        self.renderer = renderer or NoteRenderer(load_voices())
        self._spectra: dict[Timbre, _Spectra] = {}

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

"""Single notes rendered on their own, for listeners that compare sounds rather than notes."""

from __future__ import annotations

import numpy as np

from ensemble.glicol.engine import BLOCK, SAMPLE_RATE, GlicolEngine
from ensemble.glicol.program import ATTACK_SECONDS, Voice, chain
from ensemble.glicol.sequencer import LEVEL, bpm_for_bar  # a lone voice at the sequencer's level


class NoteRenderer:
    """Renders one note at a time on a Glicol engine of its own (never the audience's)."""

    def __init__(self, voices: dict[str, Voice], engine: GlicolEngine | None = None) -> None:
        self.voices = voices
        self.engine = engine or GlicolEngine()
        self.renders = 0  # how many notes this renderer has made, for caches to be judged by
        self._chain = 0

    def render(self, voice: str, note: int, seconds: float, cutoff: float = 2400.0,
               attack: float = ATTACK_SECONDS, decay: float | None = None) -> np.ndarray:
        """The left channel of `note` played for `seconds` by `voice`, from its first sample.

        One bar is set to the note's length, so `seq NOTE` holds it for exactly that long; a
        chain under a new name starts at the first sample of the block in which it lands.
        """
        samples = max(BLOCK, round(seconds * SAMPLE_RATE))
        self._chain += 1
        self.engine.set_bpm(bpm_for_bar(samples))
        self.engine.update(chain(f"n{self._chain}", [note], self.voices[voice], seconds, LEVEL, cutoff,
                                 new=True, attack=attack, decay=decay))
        blocks = np.empty((-(-samples // BLOCK), 2, BLOCK), dtype=np.float32)
        self.engine.render_into(blocks)
        self.renders += 1
        return blocks[:, 0, :].reshape(-1)[:samples]

"""Offline: the Glicol engine rendered to a WAV file, as fast as the conductor's virtual clock allows.

Driven by the same conductor as the live outputs; audio is rendered only up to the point where
the next phrase is needed, so a performance of any length streams to disk.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ensemble.clock import Clock
from ensemble.dsp.limiter import Limiter
from ensemble.dsp.wav_writer import WavWriter
from ensemble.errors import UserError
from ensemble.events import Phrase
from ensemble.glicol.engine import BLOCK, SAMPLE_RATE, GlicolEngine
from ensemble.glicol.program import load_voices
from ensemble.glicol.sequencer import GlicolSequencer
from ensemble.outputs.base import Output

TAIL_SECONDS = 0.5  # after the last phrase, let the last notes ring out


def planned_frames(seconds: float) -> int:
    """The frames a performance of `seconds` makes: whole blocks, the ring-out included."""
    end = round(seconds * SAMPLE_RATE) + int(TAIL_SECONDS * SAMPLE_RATE)
    return -(-end // BLOCK) * BLOCK


class GlicolWavOutput(Output):
    """`planned_frames`: how long the file will be (it chooses WAV or RF64). A write that fails
    (a full disk) stops the writing and is kept in `failure`, for the render to say and fail on."""

    name = "wav"

    def __init__(self, path: Path, engine: GlicolEngine | None = None,
                 on_phrase: Callable[[int], None] = lambda index: None, planned_frames: int = 0) -> None:
        super().__init__()
        self.path = path
        self.on_phrase = on_phrase
        self.failure: str | None = None
        self._engine = engine
        self._planned_frames = planned_frames
        self._first_start: float | None = None  # clock time of sample 0

    @property
    def frames(self) -> int:
        return self._wav.frames

    @property
    def phrase_starts(self) -> list[int]:
        """The sample at which each phrase begins in the file."""
        return self._sequencer.phrase_starts

    def open(self, clock: Clock) -> None:
        self._wav = WavWriter(self.path, SAMPLE_RATE, planned_frames=self._planned_frames)
        self._sequencer = GlicolSequencer(self._engine or GlicolEngine(on_message=self.report), load_voices())
        self._limiter = Limiter()

    def phrase(self, phrase: Phrase, start: float) -> None:
        self._sequencer.schedule(phrase, self._sample_at(start))
        self._render_until(self._sequencer.hungry_at())
        self.on_phrase(phrase.index)

    def end(self, at: float) -> None:
        end = self._sample_at(at)
        self._sequencer.silence_from(end)
        self._render_until(-(-(end + int(TAIL_SECONDS * SAMPLE_RATE)) // BLOCK))

    def close(self) -> None:
        try:
            self._wav.close()
        except OSError as error:  # the last buffered bytes could not be written
            self._failed(error)

    def _sample_at(self, when: float) -> int:
        if self._first_start is None:
            self._first_start = when
        return round((when - self._first_start) * SAMPLE_RATE)

    def _render_until(self, block: int) -> None:
        count = block - self._sequencer.blocks_done
        if count <= 0 or self.failure is not None:
            return
        try:
            self._wav.write(self._limiter.process(self._sequencer.render(count)))
        except (OSError, UserError) as error:
            self._failed(error)

    def _failed(self, error: Exception) -> None:
        if self.failure is None:
            self.failure = (error.strerror if isinstance(error, OSError) else None) or str(error)

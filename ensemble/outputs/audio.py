"""Live audio: the Glicol engine rendered inside the sound card's callback (sounddevice).

The conductor's thread only drops phrases into an inbox; the callback takes them from
there, lands them on the sample grid and renders, so nothing it waits for can block it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from ensemble.audio.limiter import Limiter
from ensemble.clock import Clock
from ensemble.errors import UserError
from ensemble.events import Phrase
from ensemble.glicol.engine import BLOCK, SAMPLE_RATE, GlicolEngine
from ensemble.glicol.program import load_voices
from ensemble.glicol.sequencer import GlicolSequencer
from ensemble.outputs.base import Output

FRAMES = 2 * BLOCK  # per callback: 5.8 ms at 44.1 kHz
SUGGESTION = "try --to sc, --to midi, or `ensemble render` to make a WAV"


@dataclass
class CallbackStats:
    calls: int = 0
    underflows: int = 0
    worst_seconds: float = 0.0
    durations: deque[float] = field(default_factory=lambda: deque(maxlen=100_000), repr=False)
    loudest: float = 0.0  # peak sample seen, after the limiter

    @property
    def budget_seconds(self) -> float:
        return FRAMES / SAMPLE_RATE

    @property
    def worst_share(self) -> float:
        return self.worst_seconds / self.budget_seconds


def _sounddevice() -> ModuleType:
    try:
        import sounddevice
    except OSError:  # the module loads PortAudio when imported
        raise UserError("glicol: no audio: the PortAudio library is missing (apt-get install libportaudio2); "
                        + SUGGESTION) from None
    return sounddevice


class GlicolAudioOutput(Output):
    name = "glicol"

    def __init__(self, device: int | str | None = None) -> None:
        super().__init__()
        self.device = device
        self.stats = CallbackStats()
        self._inbox: deque[tuple[Phrase | None, int]] = deque()
        self._first_sample_time: float | None = None
        self._running = threading.Event()
        self._stream: Any = None

    def open(self, clock: Clock) -> None:
        sounddevice = _sounddevice()
        self._clock = clock
        self._sequencer = GlicolSequencer(GlicolEngine(on_message=self.report), load_voices())
        self._limiter = Limiter()
        try:
            self._stream = sounddevice.OutputStream(
                samplerate=SAMPLE_RATE, blocksize=FRAMES, channels=2, dtype="float32",
                device=self.device, callback=self._callback)
            self._stream.start()
        except (sounddevice.PortAudioError, ValueError) as error:
            self._stream = None
            raise UserError(f"glicol: no audio device ({error}); {SUGGESTION}") from None
        if not self._running.wait(2.0):
            self.close()
            raise UserError(f"glicol: the audio device never asked for sound; {SUGGESTION}")

    def phrase(self, phrase: Phrase, start: float) -> None:
        self._inbox.append((phrase, self._sample_at(start)))

    def end(self, at: float) -> None:
        self._inbox.append((None, self._sample_at(at)))

    def close(self) -> None:
        if self._stream is None:
            return
        self._stream.abort()  # now, not after the buffers drain: the conductor rang out already
        self._stream.close()
        self._stream = None
        stats = self.stats
        seconds = stats.calls * FRAMES / SAMPLE_RATE
        self.report(f"{seconds:.1f} s of audio, {stats.underflows} underruns, slowest callback "
                    f"{1000 * stats.worst_seconds:.2f} ms of {1000 * stats.budget_seconds:.2f} ms")

    def _sample_at(self, when: float) -> int:
        assert self._first_sample_time is not None
        return round((when - self._first_sample_time) * SAMPLE_RATE)

    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        started = time.perf_counter()
        if status.output_underflow:
            self.stats.underflows += 1
        if self._first_sample_time is None:
            dac_delay = time_info.outputBufferDacTime - time_info.currentTime
            if not 0.0 <= dac_delay < 1.0:  # some hosts report no times
                dac_delay = 0.0
            self._first_sample_time = self._clock.now() + dac_delay
            self._running.set()
        try:
            while self._inbox:
                phrase, sample = self._inbox.popleft()
                if phrase is None:
                    self._sequencer.silence_from(sample)
                else:
                    self._sequencer.schedule(phrase, sample)
            blocks = self._limiter.process(self._sequencer.render(frames // BLOCK))
            outdata[:] = blocks.transpose(0, 2, 1).reshape(frames, 2)
            self.stats.loudest = max(self.stats.loudest, float(np.abs(outdata).max()))
        except Exception as error:
            outdata.fill(0.0)
            self.report(f"audio callback failed ({type(error).__name__}: {error}); playing silence")
        elapsed = time.perf_counter() - started
        self.stats.calls += 1
        self.stats.durations.append(elapsed)
        self.stats.worst_seconds = max(self.stats.worst_seconds, elapsed)

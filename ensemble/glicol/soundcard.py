"""Live audio: the Glicol engine, rendered a few callbacks ahead, played through sounddevice.

A render thread pulls blocks from the engine into a short queue (about 23 ms) that the sound
card's callback empties. The engine's slow moments, parsing a new program for 64 chains at a
phrase boundary, then cost the queue some slack instead of costing the callback its deadline;
and the engine runs outside the GIL (wasmtime calls through ctypes), beside the Python that
composes the next phrase. The conductor only drops phrases into an inbox, so nothing it does
can block either thread.

The engine renders at 44.1 kHz only (its synths are hard-wired to it); a device at another rate
hears it through a resampler in the render thread, by the exact ratio of the rates, so notes keep
their pitch and the engine's sample clock maps exactly onto the device's. The render thread also
times itself: the performer hears of it before it falls behind, and a spawn it could not keep up
with is refused (headroom.py).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from ensemble.clock import Clock
from ensemble.dsp.limiter import Limiter
from ensemble.dsp.resample import Resampler
from ensemble.errors import UserError
from ensemble.events import Phrase
from ensemble.glicol.engine import BLOCK, SAMPLE_RATE, GlicolEngine
from ensemble.glicol.headroom import BUDGET, Headroom, UnderrunReport, engine_cost
from ensemble.glicol.program import load_voices
from ensemble.glicol.sequencer import GlicolSequencer
from ensemble.mix import Mix
from ensemble.outputs.base import Output

FRAMES = 2 * BLOCK  # per callback: 5.8 ms at 44.1 kHz (5.3 ms at 48 kHz)
AHEAD = 4  # callbacks' worth of audio rendered ahead of the sound card
SUGGESTION = "try --to sc, --to midi, or `ensemble render` to make a WAV"


def frames_for(rate: int) -> int:
    """Frames per callback at a device's rate: about as long at 88.2 or 96 kHz as at 44.1."""
    return FRAMES * max(1, round(rate / SAMPLE_RATE))


@dataclass
class AudioStats:
    frames: int = FRAMES  # per callback
    rate: int = SAMPLE_RATE  # the device's
    callbacks: int = 0
    underflows: int = 0  # PortAudio said the device ran dry
    starved: int = 0  # the render thread had nothing ready: a callback of silence
    worst_callback: float = 0.0  # seconds
    worst_render: float = 0.0  # seconds to render one callback's worth
    loudest: float = 0.0  # peak sample rendered, after the limiter
    callback_times: deque[float] = field(default_factory=lambda: deque(maxlen=100_000), repr=False)
    render_times: deque[float] = field(default_factory=lambda: deque(maxlen=100_000), repr=False)

    @property
    def budget(self) -> float:
        """Seconds of audio per callback."""
        return self.frames / self.rate


def _sounddevice() -> ModuleType:
    try:
        import sounddevice
    except OSError:  # the module loads PortAudio when imported
        raise UserError("glicol: no audio: the PortAudio library is missing (apt-get install libportaudio2); "
                        + SUGGESTION) from None
    return sounddevice


class GlicolAudioOutput(Output):
    name = "glicol"

    def __init__(self, device: int | str | None = None, budget: float = BUDGET) -> None:
        super().__init__()
        self.device = device
        self.budget = budget  # the share of real time rendering may take (headroom.py)
        self.stats = AudioStats()
        self.rate = SAMPLE_RATE  # the device's, once open
        self.frames = FRAMES
        self.headroom: Headroom | None = None
        self._resampler: Resampler | None = None  # None at 44.1 kHz: the engine's blocks as they are
        self._underruns = UnderrunReport()
        # Who the program renders: (engine sample from which, ((agent, voice), ...)), in order.
        self._lineups: deque[tuple[int, tuple[tuple[str, str], ...]]] = deque()
        self._rendering: tuple[tuple[str, str], ...] = ()
        self._engine_seconds = 0.0  # of the chunk being rendered, spent in the engine
        # (a phrase, the end (None) or a revision of the phrase playing, clock time)
        self._inbox: deque[tuple[Phrase | Mix | None, float]] = deque()
        self._ready: deque[np.ndarray] = deque()  # rendered chunks, (frames, 2) float32
        self._wanted = threading.Event()  # the callback took a chunk: render another
        self._stopping = threading.Event()
        self._playing = threading.Event()
        self._first_sample_time: float | None = None
        self._stream: Any = None
        self._renderer: threading.Thread | None = None

    def open(self, clock: Clock) -> None:
        sounddevice = _sounddevice()
        self._clock = clock
        self.rate = self._device_rate(sounddevice)
        self.frames = self.stats.frames = frames_for(self.rate)
        self.stats.rate = self.rate
        if self.rate != SAMPLE_RATE:
            self._resampler = Resampler(SAMPLE_RATE, self.rate)
        voices = load_voices()
        self.headroom = Headroom(engine_cost(voices), self.budget)
        self._sequencer = GlicolSequencer(GlicolEngine(on_message=self.report), voices)
        self._limiter = Limiter()
        self._renderer = threading.Thread(target=self._render_loop, name="glicol-render", daemon=True)
        self._renderer.start()
        try:
            self._stream = sounddevice.OutputStream(
                samplerate=self.rate, blocksize=self.frames, channels=2, dtype="float32",
                device=self.device, callback=self._callback)
            self._stream.start()
        except (sounddevice.PortAudioError, ValueError) as error:
            self._stream = None
            self._stop_renderer()
            raise UserError(f"glicol: no audio device ({error}); {SUGGESTION}") from None
        if not self._playing.wait(2.0):
            self.close()
            raise UserError(f"glicol: the audio device never asked for sound; {SUGGESTION}")

    def _device_rate(self, sounddevice: ModuleType) -> int:
        """The rate the device runs at (JACK's, for a JACK device): the only one it may take."""
        try:
            rate = round(float(sounddevice.query_devices(self.device, "output")["default_samplerate"]))
        except (sounddevice.PortAudioError, ValueError, KeyError, TypeError) as error:
            raise UserError(f"glicol: no audio device ({error}); {SUGGESTION}") from None
        if rate <= 0:
            raise UserError(f"glicol: the audio device gives no sample rate; {SUGGESTION}")
        return rate

    def room_for(self, agents: int) -> str | None:
        """Whether `agents` agents in all can be rendered without dropping out (None: yes)."""
        headroom = self.headroom
        return None if headroom is None else headroom.room_for(agents)

    def phrase(self, phrase: Phrase, start: float) -> None:
        self._inbox.append((phrase, start))

    def retime(self, rest: Phrase, start: float) -> None:
        """Scheduled as a phrase of its own: a new shape, so its chains start anew on its start."""
        self.phrase(rest, start)

    def end(self, at: float) -> None:
        self._inbox.append((None, at))

    def hold(self, at: float) -> None:
        self._inbox.append((None, at))  # silent from then; the next phrase is scheduled as ever

    def remix(self, mix: Mix, at: float) -> None:
        """Mutes, unmutes, amp and cutoff are heard at once: the phrase playing goes on revised
        (every agent has a chain, a muted one playing rests); a new voice from the agent's next
        note on."""
        self._inbox.append((mix, at))

    def close(self) -> None:
        if self._stream is None:
            return
        self._stream.abort()  # now, not after the buffers drain: the conductor rang out already
        self._stream.close()
        self._stream = None
        self._stop_renderer()
        stats = self.stats
        # Two causes, told apart: nothing rendered in time (ours), or the device's own report
        # (its server missed a period: a busy machine, or a callback kept from the GIL).
        self.report(
            f"{stats.callbacks * stats.budget:.1f} s of audio, {stats.underflows + stats.starved} "
            f"underruns ({stats.starved} with nothing rendered, {stats.underflows} reported by the device); "
            f"slowest render {1000 * stats.worst_render:.2f} ms and slowest callback "
            f"{1000 * stats.worst_callback:.2f} ms of {1000 * stats.budget:.2f} ms")

    def _stop_renderer(self) -> None:
        self._stopping.set()
        self._wanted.set()
        if self._renderer is not None:
            self._renderer.join(timeout=2.0)

    # -- the render thread ----------------------------------------------------------------

    def _render_loop(self) -> None:
        while not self._stopping.is_set():
            if len(self._ready) >= AHEAD:
                self._wanted.wait(0.01)
                self._wanted.clear()
                continue
            started = time.perf_counter()
            try:
                self._ready.append(self._render_chunk())
            except Exception as error:
                self._ready.append(np.zeros((self.frames, 2), dtype=np.float32))
                self.report(f"rendering failed ({type(error).__name__}: {error}); playing silence")
            elapsed = time.perf_counter() - started
            self.stats.render_times.append(elapsed)
            self.stats.worst_render = max(self.stats.worst_render, elapsed)
            self._watch(elapsed)

    def _watch(self, elapsed: float) -> None:
        """Tell the performer when rendering nears what it can keep up with, and of underruns."""
        headroom, stats = self.headroom, self.stats
        if headroom is None:
            return
        warning = headroom.measure(elapsed, stats.budget, self._rendering, self._engine_seconds)
        if warning:
            self.report(warning)
        told = self._underruns.check(stats.underflows + stats.starved, stats.starved, time.monotonic(),
                                     headroom.status())
        if told:
            self.report(told)

    def _render_chunk(self) -> np.ndarray:
        first = self._first_sample_time
        if first is not None:  # phrases are placed once the time line is known
            while self._inbox:
                item, when = self._inbox.popleft()
                if item is None:
                    self._sequencer.silence_from(self._sample_at(when, first))
                elif isinstance(item, Mix):
                    sounds = {agent: sound for agent, (sound, _) in item.sounds.items()}
                    self._sequencer.revise_from(item.muted, sounds, self._sample_at(when, first))
                else:
                    start = self._sample_at(when, first)
                    self._sequencer.schedule(item, start, with_silent=True)
                    agents = tuple((part.agent, part.sound.voice) for part in item.parts + item.silent)
                    self._lineups.append((start, agents))
        self._engine_seconds = 0.0
        if self._resampler is None:
            blocks = self._limiter.process(self._engine_render(FRAMES // BLOCK))
            self.stats.loudest = max(self.stats.loudest, float(np.abs(blocks).max()))
            chunk = np.ascontiguousarray(blocks.transpose(0, 2, 1).reshape(FRAMES, 2))
        else:
            chunk = self._resampled_chunk(self._resampler)
        rendered = self._sequencer.blocks_done * BLOCK
        while self._lineups and self._lineups[0][0] <= rendered:
            self._rendering = self._lineups.popleft()[1]
        return chunk

    def _resampled_chunk(self, resampler: Resampler) -> np.ndarray:
        """One callback's worth at the device's rate: as many engine blocks as that takes."""
        needed = resampler.needed(self.frames)
        if needed:
            blocks = self._limiter.process(self._engine_render(-(-needed // BLOCK)))
            resampler.feed(blocks.transpose(1, 0, 2).reshape(2, -1))
        # Resampling may overshoot the limiter's ceiling a little between its samples.
        chunk = np.clip(resampler.take(self.frames), -1.0, 1.0)
        self.stats.loudest = max(self.stats.loudest, float(np.abs(chunk).max()))
        return chunk

    def _engine_render(self, blocks: int) -> np.ndarray:
        """The sequencer's next blocks, timed: the engine's share of the render (headroom.py)."""
        started = time.perf_counter()
        rendered = self._sequencer.render(blocks)
        self._engine_seconds += time.perf_counter() - started
        return rendered

    def _sample_at(self, when: float, first_sample_time: float) -> int:
        """The engine sample that the sound card plays at clock time `when`."""
        # Every starved callback played silence in place of a rendered chunk, delaying the rest.
        if self._resampler is None:
            return round((when - first_sample_time) * SAMPLE_RATE) - self.stats.starved * FRAMES
        # The device's frame, then the engine sample the resampler puts there (exactly rate/44100).
        frame = (when - first_sample_time) * self.rate - self.stats.starved * self.frames
        return round(frame * SAMPLE_RATE / self.rate)

    # -- the sound card's callback ----------------------------------------------------------

    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        started = time.perf_counter()
        if status.output_underflow:
            self.stats.underflows += 1
        if self._ready:
            outdata[:] = self._ready.popleft()
            if self._first_sample_time is None:  # rendered sample 0 plays now: the time line starts
                dac_delay = time_info.outputBufferDacTime - time_info.currentTime
                if not 0.0 <= dac_delay < 1.0:  # some hosts report no times
                    dac_delay = 0.0
                self._first_sample_time = self._clock.now() + dac_delay
                self._playing.set()
        else:
            outdata.fill(0.0)
            if self._first_sample_time is not None:
                self.stats.starved += 1
        self._wanted.set()
        elapsed = time.perf_counter() - started
        self.stats.callbacks += 1
        self.stats.callback_times.append(elapsed)
        self.stats.worst_callback = max(self.stats.worst_callback, elapsed)

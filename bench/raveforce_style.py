"""RaveForce's Glicol environment, its per-step work re-implemented as a speed baseline.

What each `step` of RaveForce's environment does (read from its source, rewritten here):
allocate fresh input, output and console buffers in the wasm memory (never freed), copy the
code in and `update`, then render block by block, decoding each 128-frame block float by float
with `struct.unpack` into a Python list, decoding the console buffer into a string, keeping
the left channel; the reward is minus the mean squared error of the raw waveform against the
target, zero-padded. Differences, so that it renders the same audio as ours: wasmtime instead
of wasmer, the engine's bpm set once so a bar is one note long, and live-coding mode off (left
on, as RaveForce leaves it, an update would wait for the next bar and render the old code).
"""

from __future__ import annotations

import struct

import numpy as np

from ensemble.glicol.engine import BLOCK, SAMPLE_RATE, instantiate
from ensemble.glicol.sequencer import bpm_for_bar


class RaveForceStyleEnv:
    def __init__(self, template: str, target: np.ndarray, step_seconds: float) -> None:
        self._store, self._exports = instantiate()  # compiled once, as RaveForce does on first reset
        self._memory = self._exports["memory"]
        self.template = template
        self.target = target
        self.blocks = int(step_seconds * SAMPLE_RATE / BLOCK)
        self._bpm = bpm_for_bar(round(step_seconds * SAMPLE_RATE))
        self.audio: list[float] = []

    def reset(self) -> np.ndarray:
        store = self._store
        self._exports["reset"](store)
        self._exports["live_coding_mode"](store, 0)
        self._exports["set_bpm"](store, self._bpm)
        self.audio = []
        return np.zeros(len(self.target))

    def step(self, action: list[object]) -> tuple[np.ndarray, float, bool, object]:
        store, memory, call = self._store, self._memory, self._exports
        in_ptr = call["alloc"](store, 128)
        result_ptr = call["alloc_uint8array"](store, 256)
        call["alloc_uint8array"](store, 256)  # a second console buffer, allocated and unused
        code = self.template.format(*action).encode("utf-8")
        code_ptr = call["alloc_uint8array"](store, len(code))
        memory.write(store, code, code_ptr)
        call["update"](store, code_ptr, len(code))
        out_ptr = call["alloc"](store, 256)
        console = ""
        for _ in range(self.blocks):
            call["process"](store, in_ptr, out_ptr, 256, result_ptr)
            raw = memory.read(store, out_ptr, out_ptr + 1024)
            block = []
            for offset in range(0, 1024, 4):
                block.append(struct.unpack("<f", bytearray(raw[offset: offset + 4]))[0])
            result = memory.read(store, result_ptr, result_ptr + 256)
            console = "".join(map(chr, filter(lambda byte: byte != 0, result)))
            self.audio.extend(block[:128])
        observation = np.zeros(len(self.target))
        observation[: len(self.audio)] = self.audio
        reward = -np.square(observation - self.target).mean(axis=0)
        return observation, float(reward), False, console or 0

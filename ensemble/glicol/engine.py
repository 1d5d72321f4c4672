"""One running Glicol engine: programs in, 128-frame stereo blocks out.

Owns the engine's failure modes (see FACTS.md): the result buffer is read after every
`process`, a parse error keeps the previous program playing, and a reference error or a
wasm trap replaces the instance and re-sends the last program that parsed.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import wasmtime

from ensemble.dsp import SAMPLE_RATE  # the engine's synths are hard-wired to 44.1 kHz
from ensemble.errors import UserError
from ensemble.glicol.fastcall import fixed_call
from ensemble.glicol.fetch import cache_dir, wasm_path

BLOCK = 128
_OUT_FLOATS = 2 * BLOCK  # planar stereo
_RESULT_BYTES = 256
_ERROR_KINDS = {1: "parse error", 2: "unknown sample", 3: "unknown reference"}


@functools.cache
def shared_module() -> tuple[wasmtime.Engine, wasmtime.Module]:
    """One compiled engine per process; instances are cheap, compiling is not."""
    engine = wasmtime.Engine()
    return engine, load_module(engine)


def load_module(engine: wasmtime.Engine, path: Path | None = None) -> wasmtime.Module:
    """Compile the wasm once; later loads deserialize a cached native module (~1 ms)."""
    path = path or wasm_path()
    wasm = path.read_bytes()
    key = hashlib.sha256(wasm + wasmtime.__name__.encode() + _wasmtime_version()).hexdigest()[:16]
    compiled = cache_dir() / f"glicol-{key}.cwasm"
    if compiled.is_file():
        try:
            return wasmtime.Module.deserialize_file(engine, str(compiled))
        except wasmtime.WasmtimeError:
            pass  # stale or torn cache: compile again below
    print("ensemble: compiling the Glicol engine, once (a few seconds)", file=sys.stderr)
    try:
        module = wasmtime.Module(engine, wasm)
    except wasmtime.WasmtimeError as error:
        raise UserError(f"{path} is not a usable Glicol engine: {str(error).splitlines()[0]}") from None
    compiled.parent.mkdir(parents=True, exist_ok=True)
    partial = compiled.with_suffix(".partial")
    partial.write_bytes(module.serialize())
    partial.replace(compiled)
    return module


def instantiate() -> tuple[wasmtime.Store, Any]:
    """A fresh instance of the shared compiled engine, in a store of its own, and its exports
    (wasmtime's `InstanceExports`, looked up by name)."""
    engine, module = shared_module()
    store = wasmtime.Store(engine)
    linker = wasmtime.Linker(engine)
    # The engine imports a clock it never calls while rendering; a constant keeps it pure.
    linker.define_func("env", "now", wasmtime.FuncType([], [wasmtime.ValType.f64()]), lambda: 0.0)
    return store, linker.instantiate(store, module).exports(store)


def _wasmtime_version() -> bytes:
    from importlib.metadata import version

    return version("wasmtime").encode()


class GlicolEngine:
    """A Glicol instance with buffers allocated once (the engine never frees memory)."""

    def __init__(self, on_message: Callable[[str], None] | None = None) -> None:
        self.on_message = on_message or logging.getLogger(__name__).warning
        self.bpm = 120.0
        self.last_good: str = ""
        self.restarts = 0  # instances replaced after a trap or a broken graph
        self._restarted = False
        self._pending: str | None = None
        self._start()

    def take_restart(self) -> bool:
        """True once after each restart: the caller's timing grid must start over."""
        restarted, self._restarted = self._restarted, False
        return restarted

    def _start(self) -> None:
        self._store, exports = instantiate()
        self._memory: wasmtime.Memory = exports["memory"]
        self._process = exports["process"]
        self._update = exports["update"]
        self._set_bpm = exports["set_bpm"]
        store = self._store
        self._in = exports["alloc"](store, _OUT_FLOATS)
        self._out = exports["alloc"](store, _OUT_FLOATS)
        self._result = exports["alloc_uint8array"](store, _RESULT_BYTES)
        self._process_block = fixed_call(store, self._process, self._in, self._out, _OUT_FLOATS, self._result)
        self._alloc_bytes = exports["alloc_uint8array"]
        self._code_capacity = 0
        self._code = 0
        exports["set_sr"](store, float(SAMPLE_RATE))
        exports["set_seed"](store, 1.0)  # deterministic renders
        exports["live_coding_mode"](store, 0)  # we choose the block in which programs land
        self._set_bpm(store, self.bpm)
        self._restarted = False
        self._map_memory()

    def _map_memory(self) -> None:
        """Numpy views straight onto the engine's memory; remapped whenever it may move."""
        base = ctypes.addressof(self._memory.data_ptr(self._store).contents)
        self._mapped_len = self._memory.data_len(self._store)
        self._out_view = np.ctypeslib.as_array(
            (ctypes.c_float * _OUT_FLOATS).from_address(base + self._out)).reshape(2, BLOCK)
        self._result_view = np.ctypeslib.as_array(
            (ctypes.c_uint8 * _RESULT_BYTES).from_address(base + self._result))

    # -- control ----------------------------------------------------------------------------

    def set_bpm(self, bpm: float) -> None:
        """Glicol's bar (4 beats at this bpm) is what one `seq` spans."""
        self.bpm = bpm
        self._set_bpm(self._store, bpm)

    def update(self, code: str) -> None:
        """Hand the engine a program; it is parsed, and errors reported, in the next block."""
        data = code.encode("utf-8")
        if len(data) > self._code_capacity:
            self._code_capacity = max(len(data), 2 * self._code_capacity, 4096)
            self._code = self._alloc_bytes(self._store, self._code_capacity)
            self._map_memory()
        self._memory.write(self._store, data, self._code)
        try:
            self._update(self._store, self._code, len(data))
        except wasmtime.Trap as trap:
            self._recover(f"the engine trapped on a program ({str(trap).splitlines()[-1].strip()})")
            return
        self._pending = code

    # -- audio ------------------------------------------------------------------------------

    def render_into(self, out: np.ndarray) -> None:
        """Fill `out`, shape (blocks, 2, 128) float32, with the next blocks of audio."""
        for index in range(out.shape[0]):
            try:
                self._process_block()
            except wasmtime.Trap as trap:
                self._recover(f"the engine trapped ({str(trap).splitlines()[-1].strip()})")
                out[index] = 0.0
                continue
            if self._pending is not None:
                self._settle_update()
            out[index] = self._out_view

    def _settle_update(self) -> None:
        """The block after an update tells whether the program parsed."""
        if self._memory.data_len(self._store) != self._mapped_len:
            self._map_memory()
        code, self._pending = self._pending, None
        kind = int(self._result_view[0])
        if kind == 0:
            if code is not None:  # a block with no update parsed nothing new
                self.last_good = code
            return
        text = bytes(self._result_view[2:]).split(b"\0", 1)[0].decode("utf-8", "replace")
        self.on_message(f"glicol: {_ERROR_KINDS.get(kind, f'error {kind}')}: {text.strip()}")
        if kind == 3:  # the graph is left half-changed: only a new instance is safe
            self._recover(None)

    def _recover(self, reason: str | None) -> None:
        if reason:
            self.on_message(f"glicol: {reason}; restarting the engine with the last good program")
        self.restarts += 1
        self._start()
        self._restarted = True
        if self.last_good:
            self.update(self.last_good)

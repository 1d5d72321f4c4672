"""Calling one wasm export, with the same integer arguments, as cheaply as possible.

wasmtime-py's `Func.__call__` looks up the function's type and converts every argument on
each call: with wasmtime 50 that is about 70 µs of a 100 µs `process` block, more than the
engine's own work. The arguments of `process` never change, so they are converted once here
and the C API is called directly. That API is wasmtime-py's internal `_ffi`; where it is not
as expected, the ordinary call is used instead.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

import wasmtime

_ffi: Any
try:
    from wasmtime import _ffi
except ImportError:  # pragma: no cover - depends on the wasmtime release
    _ffi = None


def fixed_call(store: wasmtime.Store, func: wasmtime.Func, *args: int) -> Callable[[], None]:
    """`func(store, *args)` for i32 `args` and no results, prepared once; raises wasmtime.Trap."""
    try:
        return _direct(store, func, args)
    except (AttributeError, TypeError):  # pragma: no cover - another wasmtime-py layout
        return lambda: func(store, *args)


def _direct(store: wasmtime.Store, func: wasmtime.Func, args: tuple[int, ...]) -> Callable[[], None]:
    if _ffi is None:
        raise AttributeError("wasmtime._ffi")
    params = (_ffi.wasmtime_val_t * len(args))()
    for slot, value in zip(params, args, strict=True):
        slot.kind = _ffi.WASMTIME_I32.value
        slot.of.i32 = value
    results = (_ffi.wasmtime_val_t * 1)()
    context = store._context()
    handle = ctypes.byref(func._func)
    call, count = _ffi.wasmtime_func_call, len(args)

    def invoke() -> None:
        trap = ctypes.POINTER(_ffi.wasm_trap_t)()
        error = call(context, handle, params, count, results, 0, ctypes.byref(trap))
        if error:
            raise wasmtime.WasmtimeError._from_ptr(error)
        if trap:
            raise wasmtime.Trap._from_ptr(trap)

    return invoke

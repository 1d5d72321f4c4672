"""The prepared `process` call renders what wasmtime-py's own call renders, and traps alike."""

import numpy as np
import pytest
import wasmtime

from ensemble.glicol.engine import BLOCK, GlicolEngine
from ensemble.glicol.fastcall import fixed_call

pytestmark = pytest.mark.usefixtures("glicol")

PROGRAM = "a: seq 60 _ 67 64 >> sawsynth 0.01 0.2 >> lpf 1200.0 1.0 >> mul 0.3"


def _blocks(engine, call, count=400):
    out = np.empty((count, 2, BLOCK), dtype=np.float32)
    for index in range(count):
        call()
        out[index] = engine._out_view
    return out


def test_the_prepared_call_renders_the_same_samples_as_the_public_one():
    fast, public = GlicolEngine(), GlicolEngine()
    for engine in (fast, public):
        engine.update(PROGRAM)
    prepared = fixed_call(fast._store, fast._process, fast._in, fast._out, 2 * BLOCK, fast._result)
    plain = lambda: public._process(public._store, public._in, public._out, 2 * BLOCK, public._result)  # noqa: E731
    ours, theirs = _blocks(fast, prepared), _blocks(public, plain)
    assert np.abs(ours).max() > 0.05
    assert np.array_equal(ours, theirs)


def test_the_installed_wasmtime_takes_the_prepared_path():
    engine = GlicolEngine()
    assert engine._process_block.__name__ == "invoke"  # not the fallback to the public call


def test_a_trap_in_the_prepared_call_is_raised_as_a_trap():
    engine = GlicolEngine()
    prepared = fixed_call(engine._store, engine._process, engine._in, engine._out, 128, engine._result)
    with pytest.raises(wasmtime.Trap):  # a size below 256 traps the engine (FACTS.md)
        prepared()

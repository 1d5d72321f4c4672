import numpy as np

from ensemble.dsp.limiter import Limiter


def _blocks(amplitude, n=20):
    wave = np.sin(np.linspace(0, 40 * np.pi, n * 128)).astype(np.float32) * amplitude
    return np.stack([wave.reshape(n, 128)] * 2, axis=1)


def test_loud_input_never_leaves_the_ceiling():
    limiter = Limiter(ceiling=0.9)
    out = limiter.process(_blocks(5.0))
    assert np.abs(out).max() <= 0.9 + 1e-6


def test_quiet_input_passes_untouched():
    quiet = _blocks(0.5)
    assert np.array_equal(Limiter().process(quiet.copy()), quiet)


def test_the_gain_recovers_after_a_peak():
    limiter = Limiter(ceiling=0.9, release_blocks=10)
    limiter.process(_blocks(3.0, 5))
    assert limiter.gain < 0.5
    limiter.process(_blocks(0.1, 20))
    assert limiter.gain == 1.0


def test_the_same_input_gives_the_same_output():
    first, second = Limiter().process(_blocks(2.0)), Limiter().process(_blocks(2.0))
    assert np.array_equal(first, second)

import numpy as np
import pytest

from ensemble.dsp.resample import Resampler, ratio

ENGINE = 44100
RATES = (48000, 96000, 88200, 32000, 22050)


def _sine(frequency, seconds, rate=ENGINE, amplitude=0.5):
    t = np.arange(round(seconds * rate)) / rate
    wave = (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)
    return np.stack([wave, -wave])  # planar stereo, as the engine renders


def _streamed(resampler, planar, sizes):
    """Fed in blocks of the given sizes (cycled), every frame taken as it is made."""
    out, at, index = [], 0, 0
    while at < planar.shape[1]:
        size = sizes[index % len(sizes)]
        out.append(resampler.process(planar[:, at: at + size]))
        at, index = at + size, index + 1
    return np.concatenate(out)


def _peak_frequency(signal, rate):
    size = 16 * len(signal)
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal)), size))
    return np.argmax(spectrum) * rate / size, spectrum


def test_the_ratio_is_exact_and_in_lowest_terms():
    assert ratio(44100, 48000) == (160, 147)
    assert ratio(44100, 96000) == (320, 147)
    assert ratio(44100, 44100) == (1, 1)
    assert ratio(44100, 22050) == (1, 2)
    with pytest.raises(ValueError):
        ratio(44100, 0)


@pytest.mark.parametrize("rate", RATES)
def test_a_sine_comes_out_at_its_own_frequency(rate):
    out = Resampler(ENGINE, rate).process(_sine(440.0, 2.0))
    found, _ = _peak_frequency(out[rate // 2: rate // 2 + rate, 0], rate)
    assert abs(1200 * np.log2(found / 440.0)) < 1.0  # cents
    # And sample for sample: the ideal sine at the new rate, from the same time 0 (no delay).
    t = np.arange(len(out)) / rate
    ideal = 0.5 * np.sin(2 * np.pi * 440.0 * t)
    inner = slice(200, len(out) - 200)  # away from the silence before the start and after the end
    error = out[inner, 0] - ideal[inner]
    assert np.sqrt(np.mean(error**2)) < 1e-4 * 0.5  # better than -80 dB
    assert np.array_equal(out[:, 1], -out[:, 0])  # channels kept apart


@pytest.mark.parametrize("rate", RATES)
def test_over_many_blocks_the_length_keeps_the_exact_ratio(rate):
    up, down = ratio(ENGINE, rate)
    resampler = Resampler(ENGINE, rate)
    fed = 0
    for _ in range(1000):  # 2.9 s of engine blocks
        resampler.process(np.zeros((2, 128), dtype=np.float32))
        fed += 128
    # Frame k is made once the filter has the input up to half its length past k * down / up.
    assert resampler.made == -(-(fed - resampler.taps // 2) * up // down)
    assert abs(resampler.made - fed * up / down) <= resampler.taps * up / down


@pytest.mark.parametrize("rate", (48000, 96000, 32000))
def test_blocks_of_any_size_give_the_same_samples_as_one(rate):
    planar = _sine(1000.0, 1.0) + _sine(7000.0, 1.0, amplitude=0.2)
    whole = Resampler(ENGINE, rate).process(planar)
    for sizes in ((128,), (1, 7, 300, 2, 1000), (4410,)):
        assert np.array_equal(_streamed(Resampler(ENGINE, rate), planar, sizes), whole)


def test_no_discontinuity_at_block_edges():
    """A 440 Hz sine streamed in engine blocks moves no more from one frame to the next at a block's
    edge than anywhere: the largest step between frames is the sine's own steepest."""
    rate = 48000
    out = _streamed(Resampler(ENGINE, rate), _sine(440.0, 1.0), (128,))[200:-200, 0]
    steepest = 0.5 * 2 * np.pi * 440.0 / rate
    assert np.abs(np.diff(out)).max() < steepest * 1.001


def test_take_gives_exactly_the_frames_asked_once_fed_what_it_needs():
    resampler = Resampler(ENGINE, 48000)
    planar = _sine(440.0, 0.5)
    at, chunks = 0, []
    for _ in range(40):
        needed = resampler.needed(256)
        assert needed >= 0
        resampler.feed(planar[:, at: at + needed])
        at += needed
        chunks.append(resampler.take(256))
        assert resampler.needed(0) == 0
    assert all(chunk.shape == (256, 2) for chunk in chunks)
    # Asking for the same frames fed just as they are needed, or all at once, is the same.
    assert np.array_equal(np.concatenate(chunks), Resampler(ENGINE, 48000).process(planar)[: 40 * 256])
    with pytest.raises(ValueError):
        Resampler(ENGINE, 48000).take(1)


def test_the_highest_notes_leave_no_images_in_the_hearing_range():
    """An 18 kHz tone raised to 48 kHz has nothing but itself above -80 dB (a linear
    interpolation would leave its mirror at 30.1 kHz - 18 = 12.1 kHz about 40 dB down)."""
    rate = 48000
    out = Resampler(ENGINE, rate).process(_sine(18000.0, 1.0))[2000:-2000, 0]
    found, spectrum = _peak_frequency(out, rate)
    assert abs(found - 18000.0) < 1.0
    freqs = np.arange(len(spectrum)) * rate / (2 * (len(spectrum) - 1))
    others = spectrum[np.abs(freqs - 18000.0) > 100.0]
    assert 20 * np.log10(others.max() / spectrum.max()) < -80.0


def test_a_constant_passes_unchanged_at_every_phase():
    out = Resampler(ENGINE, 48000).process(np.full((2, 4410), 0.25, dtype=np.float32))
    assert np.allclose(out[100:-100], 0.25, atol=1e-6)


def test_input_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError):
        Resampler(ENGINE, 48000).feed(np.zeros((128, 2), dtype=np.float32))

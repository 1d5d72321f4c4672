"""The picture of a measured performance: a panel per measure, a line per agent over the phrases
it played, the seed's own shape, the changes of the seed."""

import math

import numpy as np
import pytest
from support.optional import required_module

from ensemble.analysis.charts import DPI, figure, rolling_mean, save
from ensemble.analysis.transcript import MEASURES, SeedChange, Series, Transcript, transcribe_file
from ensemble.files import written_together
from ensemble.melody import Melody

NAN = math.nan


@pytest.fixture(autouse=True)
def matplotlib():
    return required_module("matplotlib", "pip install 'ensemble[plot]'")


def test_rolling_mean_is_over_the_last_values_nans_left_out():
    assert rolling_mean([1, 2, 3, 4], 2).tolist() == [1.0, 1.5, 2.5, 3.5]
    assert rolling_mean([1, 2, 3, 4], 10).tolist() == [1.0, 1.5, 2.0, 2.5]
    means = rolling_mean([NAN, 2, NAN, NAN, 6], 2)
    assert np.isnan(means[0]) and means[1:3].tolist() == [2.0, 2.0] and np.isnan(means[3]) and means[4] == 6
    assert rolling_mean([], 3).tolist() == []


def _transcript(lengths=None):
    transcript = Transcript("folder/show.ens", 6, [SeedChange(0, Melody((60, 62, 64)), lengths),
                                                   SeedChange(3, Melody((62, 64, 67)), lengths)])
    for name, first in (("a0", 0), ("a1", 2)):
        series = Series(name)
        transcript.agents[name] = series
        for phrase in range(first, 6):
            values = {m.key: float(phrase) for m in MEASURES}
            values["onsets"] = NAN if lengths is None else 0.5
            series.add(phrase, 1 + first // 2, "seed", values)
    return transcript


def _panels(fig):
    return [axes for axes in fig.axes if axes.get_title()]


def test_a_panel_per_measure_a_line_per_agent(matplotlib):
    fig = figure(_transcript(), window=2)
    panels = _panels(fig)
    assert [axes.get_title().split(":")[0] for axes in panels] == [
        "fidelity", "drift", "pitches", "|interval|", "entropy", "arch"]  # no lengths: no onsets
    fidelity = {line.get_label(): line for line in panels[0].get_lines()}
    assert fidelity["a0"].get_xdata().tolist() == [1, 2, 3, 4, 5, 6]
    assert fidelity["a0"].get_ydata().tolist() == [0.0, 0.5, 1.5, 2.5, 3.5, 4.5]  # over the last 2
    assert fidelity["a1"].get_xdata().tolist() == [3, 4, 5, 6]  # from its first phrase
    seed = next(line for line in panels[2].get_lines() if line.get_label() == "seed")
    assert seed.get_xdata().tolist() == [1, 4, 6] and seed.get_ydata().tolist() == [3.0, 3.0, 3.0]
    changes = [line for line in panels[0].get_lines() if line.get_linestyle() == ":"]
    assert [line.get_xdata()[0] for line in changes] == [4]
    assert fig._suptitle.get_text().startswith("show.ens: each agent's mean over its last 2 phrases")
    matplotlib.pyplot.close(fig)


def test_with_lengths_the_onsets_have_a_panel(matplotlib):
    fig = figure(_transcript(lengths=(8, 8, 8)))
    assert "onset fid." in [axes.get_title().split(":")[0] for axes in _panels(fig)]
    matplotlib.pyplot.close(fig)


def test_save_writes_a_png_whole(tmp_path):
    transcript = transcribe_file(_script(tmp_path))
    out = tmp_path / "measures.png"
    with written_together([out]) as partials:
        save(transcript, None, partials[0])
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (12 * DPI, 9 * DPI)  # three rows of two panels
    assert {path.name for path in tmp_path.iterdir()} == {"s.ens", "measures.png"}  # no partial file left


def _script(folder):
    path = folder / "s.ens"
    path.write_text("seed C4 E4 G4 C5\nspawn 2\nwait 10\nseed D4 F4 A4\nwait 10\n")
    return path

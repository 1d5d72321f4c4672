"""A measured performance as a picture: each measure over the phrases, a line per agent, the
seed's own shape dashed, every change of the seed dotted."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ensemble.analysis.tables import default_window
from ensemble.analysis.transcript import MEASURES, ONSETS, SHAPE, Transcript
from ensemble.errors import UserError
from ensemble.files import PartialFile
from ensemble.plot import load_pyplot as pyplot  # matplotlib, imported when first needed

WIDTH = 12.0  # inches
ROW_HEIGHT = 3.0
DPI = 100


def rolling_mean(values: Sequence[float], window: int) -> np.ndarray:
    """At each place, the mean of the last `window` values up to it (fewer at the start), NaNs
    left out; NaN where all of them are NaN."""
    data = np.asarray(values, dtype=float)
    known = ~np.isnan(data)
    sums = np.concatenate([[0.0], np.cumsum(np.where(known, data, 0.0))])
    counts = np.concatenate([[0], np.cumsum(known)])
    ends = np.arange(1, len(data) + 1)
    starts = np.maximum(0, ends - window)
    count = counts[ends] - counts[starts]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, (sums[ends] - sums[starts]) / np.maximum(count, 1), np.nan)


def figure(transcript: Transcript, window: int | None = None) -> Any:
    """The picture: a panel per measure (the onsets' only when lengths were in play)."""
    window = window or default_window(transcript.phrases)
    plt = pyplot()
    measures = [m for m in MEASURES if m is not ONSETS or transcript.rhythmic]
    rows = math.ceil(len(measures) / 2)
    fig, grid = plt.subplots(rows, 2, figsize=(WIDTH, ROW_HEIGHT * rows), dpi=DPI, sharex=True, squeeze=False)
    panels = grid.flatten()
    colours = {name: plt.cm.tab10(k % 10) for k, name in enumerate(transcript.agents)}
    changes = transcript.perturbations()
    for measure, axes in zip(measures, panels, strict=False):
        for name, series in transcript.agents.items():
            axes.plot([p + 1 for p in series.phrases], rolling_mean(series.values[measure.key], window),
                      color=colours[name], linewidth=1.1, label=name)
        if measure in SHAPE and transcript.seeds:
            _draw_seed(axes, transcript, measure.key)
        for change in changes:
            axes.axvline(change.phrase + 1, color="grey", linewidth=0.6, linestyle=":")
        axes.set_title(f"{measure.heading}: {measure.meaning}", fontsize=8)
        axes.tick_params(labelsize=7)
    for axes in panels[len(measures):]:
        axes.axis("off")
    for axes in panels[max(0, len(measures) - 2):len(measures)]:
        axes.set_xlabel("phrase", fontsize=8)
    panels[0].legend(loc="lower right", fontsize=6, ncol=max(1, len(transcript.agents) // 8))
    fig.suptitle(f"{Path(transcript.name).name}: each agent's mean over its last {window} phrases "
                 "(dashed: the seed; dotted: the seed changed)", fontsize=10)
    fig.tight_layout()
    return fig


def _draw_seed(axes: Any, transcript: Transcript, key: str) -> None:
    """The seed's own measure, a step at each change of the seed."""
    starts = [change.phrase + 1 for change in transcript.seeds]
    values = [change.shape()[key] for change in transcript.seeds]
    axes.plot([*starts, transcript.phrases], [*values, values[-1]], color="black", linewidth=1.0,
              linestyle="--", drawstyle="steps-post", label="seed")


def save(transcript: Transcript, window: int | None, png: PartialFile) -> None:
    """Draw the picture into `png`, a file its caller puts in place once whole (ensemble.files)."""
    plt = pyplot()
    fig = figure(transcript, window)
    try:
        fig.savefig(png.path, format="png", dpi=DPI)
    except OSError as error:
        raise UserError(f"cannot write {png.target}: {error.strerror or error}") from None
    finally:
        plt.close(fig)

"""The per-agent table printed after a render: how close each agent got, over time."""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from ensemble.session import Session

_SPARKS = "_▁▂▃▄▅▆▇█"  # 0% is drawn, not left blank
SCALE = f"{_SPARKS[0]} = 0%, {_SPARKS[-1]} = 100%"
_PERIODS = 4


def sparkline(values: list[float], width: int = 24) -> str:
    """Accuracy (0..1) per phrase, squeezed into `width` characters by averaging."""
    if not values:
        return ""
    chunks = [values[i * len(values) // width: (i + 1) * len(values) // width] for i in range(width)]
    means = [sum(c) / len(c) for c in chunks if c]
    return "".join(_SPARKS[round(m * (len(_SPARKS) - 1))] for m in means)


def accuracy_table(session: Session) -> str:
    """One row per agent: whom it copies, its accuracy against its target per quarter of the
    performance, the first phrase it played its target exactly and the first it played the seed
    exactly, and a sparkline of every attempt against its target."""
    history, chain = session.history, session.chain
    total = history.phrases
    bounds = [round(i * total / _PERIODS) for i in range(_PERIODS + 1)]
    periods = [f"{bounds[i] + 1}-{bounds[i + 1]}" for i in range(_PERIODS)]
    header = ["agent", "copies", "voice", *(f"ph {p}" for p in periods), "first exact", "first as seed",
              "accuracy per phrase"]
    rows = [header]
    for name in chain.names:
        scores = history.scores(name)
        cells = []
        for start, end in pairwise(bounds):
            # summed in order as Python floats, so that every figure is what it always was
            period = scores.accuracy[(scores.phrase >= start) & (scores.phrase < end)].tolist()
            cells.append(f"{sum(period) / len(period):.0%}" if period else "-")
        exact = _first(scores.phrase[scores.accuracy == 1.0])
        as_seed = _first(scores.phrase[scores.as_seed])
        rows.append([
            name, chain.follows[name], session.voicing(name).voice, *cells,
            f"phrase {exact}" if exact else "never", f"phrase {as_seed}" if as_seed else "never",
            sparkline(scores.accuracy.tolist()),
        ])
    widths = [max(len(row[c]) for row in rows) for c in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:], f"(sparkline: {SCALE})"])


def _first(phrases: np.ndarray) -> int | None:
    """The first of these phrase indices, numbered from 1 as the performer counts."""
    return int(phrases[0]) + 1 if len(phrases) else None


def commands_table(commands: list[tuple[int, str]]) -> str:
    """The commands of a performance with the phrase each landed on, one phrase a line."""
    by_phrase: dict[int, list[str]] = {}
    for phrase, command in commands:
        by_phrase.setdefault(phrase, []).append(command)
    return "\n".join(f"phrase {phrase:>4}: {'; '.join(texts)}" for phrase, texts in by_phrase.items())

"""A measured performance as text: a row per agent, first window -> last, and the recovery of
every agent after each change of the seed."""

from __future__ import annotations

from ensemble.analysis.transcript import MEASURES, ONSETS, SHAPE, Measure, Series, Transcript
from ensemble.learning.chain import agent_number
from ensemble.measures import LEVEL_OVER

MOST_CHANGES = 12  # changes of the seed shown one by one; a seed played in every phrase has hundreds
MOST_SEED_TEXT = 60  # characters of a seed shown; a melody of 64 steps is about 200
WIDTH = 100  # characters of a line of recoveries, before it wraps
ARROW = "→"
NONE = "-"


def default_window(phrases: int) -> int:
    """A tenth of the performance, at least a phrase."""
    return max(1, phrases // 10)


def report(transcript: Transcript, window: int) -> str:
    """The whole report: what was played, the table, the recoveries."""
    played = f"{_count(transcript.phrases, 'phrase')}, {_count(len(transcript.agents), 'agent')}"
    lines = [f"{transcript.name}: {played}; each cell: its first {_phrases(window)} {ARROW} its last"]
    lines.append(agent_table(transcript, window))
    lines += [f"  {measure.heading}: {measure.meaning}" for measure in _shown(transcript)]
    lines.append("")
    lines += recovery_lines(transcript)
    return "\n".join(lines)


def agent_table(transcript: Transcript, window: int) -> str:
    """A row for the seed (generation 0, its first melody -> its last), then one per agent, by
    generation (its place in the chain at its last phrase), with the mean of each measure over
    its first `window` attempts and its last."""
    measures = _shown(transcript)
    rows = [["agent", "gen", "copies", "phrases", *(m.heading for m in measures)]]
    if transcript.seeds:
        first, last = transcript.seeds[0].shape(), transcript.seeds[-1].shape()
        rows.append(["seed", "0", NONE, f"1-{transcript.phrases}",
                     *(_cell(m, first[m.key], last[m.key]) if m in SHAPE else NONE for m in measures)])
    for series in sorted(transcript.agents.values(), key=_place):
        rows.append([series.name, str(series.generations[-1]), series.copies[-1],
                     f"{series.phrases[0] + 1}-{series.phrases[-1] + 1}",
                     *(_cell(m, series.first(m.key, window), series.last(m.key, window)) for m in measures)])
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])


def recovery_lines(transcript: Transcript) -> list[str]:
    """A line per change of the seed, and lines of every agent's recovery after it."""
    recoveries = transcript.recoveries()
    if not recoveries:
        return ["the seed never changed: no recovery to measure"]
    lines = [f"recovery: attempts an agent made below its level before the seed changed (its mean over "
             f"{LEVEL_OVER} attempts),", "until one reached it: in fidelity to its target, and in closeness "
             "to the seed (1 - drift)"]
    for recovery in recoveries[:MOST_CHANGES]:
        lines.append(f"phrase {recovery.change.phrase + 1}: seed {_short(str(recovery.change.melody))}")
        names = sorted(recovery.fidelity, key=agent_number)
        if not names:
            lines.append("  no agent played before and after it")
            continue
        for label, found in (("fidelity", recovery.fidelity), ("to seed", recovery.to_seed)):
            each = [_recovered(name, found[name], recovery.watched[name]) for name in names]
            lines += _wrapped(f"  {label:<8}  ", each)
    if len(recoveries) > MOST_CHANGES:
        lines.append(f"... and {len(recoveries) - MOST_CHANGES} more changes of the seed")
    return lines


def _wrapped(opening: str, items: list[str]) -> list[str]:
    """`items` after `opening`, comma-separated, in lines of at most WIDTH (an item is never split)."""
    lines, line = [], opening
    for number, item in enumerate(items):
        text = item + ("," if number + 1 < len(items) else "")
        if len(line) > len(opening) and len(line) + len(text) > WIDTH:
            lines.append(line.rstrip())
            line = " " * len(opening)
        line += text + " "
    return [*lines, line.rstrip()]


def _shown(transcript: Transcript) -> list[Measure]:
    """The measures worth a column: the onsets' only when lengths were in play."""
    return [m for m in MEASURES if m is not ONSETS or transcript.rhythmic]


def _recovered(name: str, attempts: int | None, watched: int) -> str:
    return f"{name} {attempts}" if attempts is not None else f"{name} not in {watched}"


def _place(series: Series) -> tuple[int, int]:
    return series.generations[-1], agent_number(series.name)


def _cell(measure: Measure, first: float | None, last: float | None) -> str:
    return f"{_value(measure, first)}{ARROW}{_value(measure, last)}"


def _value(measure: Measure, value: float | None) -> str:
    if value is None or value != value:  # NaN: nothing to measure (no interval, say)
        return NONE
    return f"{value:.{measure.decimals}f}"


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}{'s' * (number != 1)}"


def _phrases(window: int) -> str:
    return "phrase" if window == 1 else f"{window} phrases"


def _short(text: str) -> str:
    return text if len(text) <= MOST_SEED_TEXT else text[:MOST_SEED_TEXT - 1] + "…"

"""A journal as a picture: learning curves with the commands marked, a piano roll, the chain."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, replace
from itertools import accumulate
from pathlib import Path
from typing import Any

from ensemble.errors import UserError
from ensemble.events import Phrase
from ensemble.history import HELD_PHRASES, HeldPhrase
from ensemble.melody import REST, laid_on, note_name
from ensemble.performance.journal import Journal, read_journal
from ensemble.performance.sources import journal_source, rehearse
from ensemble.rhythm import TICKS_PER_BEAT, beats
from ensemble.session import Session

SIZE = (12.0, 9.0)  # inches
DPI = 100  # so the PNG is 1200 x 900
BAR = 0.9  # of a note's length is drawn: a gap shows where one note ends and the next begins


def load_pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display needed, none opened
        import matplotlib.pyplot as pyplot
    except ImportError:
        raise UserError("plotting needs matplotlib: pip install 'ensemble[plot]'") from None
    return pyplot


@dataclass(frozen=True)
class Span:
    """Where a phrase lay in time: its first beat, its step in beats and, with rhythm, its
    length in ticks (the grid its parts were laid on)."""

    start: float
    step_beats: float
    grid: int | None

    @classmethod
    def of(cls, phrase: Phrase) -> Span:
        grid = None if phrase.length_beats is None else round(phrase.length_beats * TICKS_PER_BEAT)
        return cls(phrase.start_beat, phrase.step_beats, grid)


@dataclass(frozen=True)
class Replay:
    """The session as it stood at the end of a journal, its history too, and where in time the
    phrases whose melodies it holds lay (by phrase index)."""

    session: Session
    spans: dict[int, Span]


@dataclass(frozen=True)
class Bar:
    """A note in the piano roll: from `start` for `length`, in steps, or in beats with rhythm."""

    agent: str
    note: int
    start: float
    length: float
    muted: bool


def replayed(journal: Journal) -> Replay:
    """The journal played through a silent session (no sound), and where its last phrases lay."""
    source = journal_source(journal)
    spans: deque[tuple[int, Span]] = deque(maxlen=HELD_PHRASES)  # as many as the history holds

    def play(session: Session) -> Iterator[Phrase]:
        for phrase in source.play(session):
            spans.append((phrase.index, Span.of(phrase)))
            yield phrase

    session = rehearse(replace(source, play=play))
    return Replay(session, dict(spans))


def figure(journal: Journal, replay: Replay) -> Any:
    session = replay.session
    pyplot = load_pyplot()
    fig = pyplot.figure(figsize=SIZE, dpi=DPI)
    grid = fig.add_gridspec(2, 3, height_ratios=[1, 1])
    curves = fig.add_subplot(grid[0, :])
    roll, chain = fig.add_subplot(grid[1, :2]), fig.add_subplot(grid[1, 2])
    names = session.history.agents  # every agent that ever played, in the order they first did
    colours = {name: pyplot.cm.tab10(i % 10) for i, name in enumerate(names)}

    for name in names:
        scores = session.history.scores(name)
        if len(scores):
            curves.plot((scores.phrase + 1).tolist(), scores.accuracy.tolist(), label=name,
                        color=colours[name], linewidth=1.2)
    for order, (phrase, commands) in enumerate(sorted(journal.commands.items())):
        curves.axvline(phrase + 1, color="grey", linewidth=0.6, linestyle=":")
        # Labels of nearby phrases would overlap: each is stepped down from the last, in turn.
        curves.annotate("; ".join(map(str, commands))[:40], (phrase + 1, 0.98 - 0.16 * (order % 3)),
                        fontsize=6, va="top", ha="left", color="dimgrey", xycoords=("data", "axes fraction"),
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})
    curves.set(xlabel="phrase", ylabel="accuracy of the attempt", ylim=(-0.02, 1.02),
               title=f"{journal.path.name}: learning curves (dotted: commands)")
    curves.legend(loc="lower right", fontsize=7, ncol=max(1, len(names) // 8))

    _draw_roll(roll, replay, names, colours)

    _draw_chain(chain, session, names, colours)
    fig.tight_layout()
    return fig


def roll_bars(replay: Replay) -> tuple[list[Bar], str]:
    """The notes the piano roll draws, and the unit of their times: `step` when no phrase held
    has lengths (a note a step, phrase after phrase), else `beat` (each note where it was heard:
    laid on its phrase's grid, as the session lays it)."""
    history = replay.session.history
    if not any(phrase.lengths is not None for phrase in history.held):
        steps = history.steps()
        step, bars = int(steps[:history.first_held].sum()), []
        for phrase in history.held:
            muted = phrase.muted_names()
            bars += [Bar(attempt.agent, note, step + offset, 1, attempt.agent in muted)
                     for attempt in phrase.attempts()
                     for offset, note in enumerate(attempt.played) if note != REST]
            step += int(steps[phrase.index])
        return bars, "step"
    return [bar for phrase in history.held for bar in _timed_bars(phrase, replay.spans[phrase.index])], "beat"


def _timed_bars(phrase: HeldPhrase, span: Span) -> list[Bar]:
    """A phrase's notes at their onsets and lengths, in beats from the show's start."""
    muted = phrase.muted_names()
    bars = []
    for attempt in phrase.attempts():
        if attempt.lengths is None or span.grid is None:  # before rhythm came into play: steps
            timed = [(i * span.step_beats, span.step_beats, note) for i, note in enumerate(attempt.played)]
        else:
            notes, lengths = laid_on(attempt.played, attempt.lengths, span.grid)
            onsets = accumulate(lengths[:-1], initial=0)  # ticks from the phrase's start
            timed = [(beats(at), beats(ticks), note)
                     for at, ticks, note in zip(onsets, lengths, notes, strict=True)]
        bars += [Bar(attempt.agent, note, span.start + at, length, attempt.agent in muted)
                 for at, length, note in timed if note != REST]
    return bars


def _draw_roll(axes: Any, replay: Replay, names: list[str], colours: dict[str, Any]) -> None:
    """Who played what: each agent in a lane of its own within each semitone, muted ones hollow.
    Only the phrases whose melodies the session holds are drawn: the last HELD_PHRASES."""
    lane = 0.9 / max(1, len(names))
    history = replay.session.history
    bars, unit = roll_bars(replay)
    notes = set()
    for bar in bars:
        if bar.agent not in colours:
            continue
        bottom = -0.45 + lane * names.index(bar.agent)
        style = ({"facecolor": "none", "edgecolor": colours[bar.agent], "linewidth": 0.5}
                 if bar.muted else {"color": colours[bar.agent]})
        axes.broken_barh([(bar.start, bar.length * BAR)], (bar.note + bottom, lane), **style)
        notes.add(bar.note)
    if notes:
        ticks = list(range(min(notes), max(notes) + 1))
        axes.set_yticks(ticks, [note_name(note) for note in ticks], fontsize=6)
    title = "who played what (a lane per agent; hollow: muted)"
    if history.first_held:
        title = (f"who played what in the last {history.phrases - history.first_held} phrases "
                 "(a lane per agent; hollow: muted)")
    axes.set(xlabel=unit, ylabel="note", title=title)


def _draw_chain(axes: Any, session: Session, names: list[str], colours: dict[str, Any]) -> None:
    """Who copies whom at the end: the seed on the left, each agent to the right of its target."""
    follows = session.chain.follows
    depth: dict[str, int] = {"seed": 0}

    def level(name: str, seen: frozenset[str] = frozenset()) -> int:
        if name not in depth:
            target = follows.get(name, "seed")
            depth[name] = 1 if name in seen else level(target, seen | {name}) + 1
        return depth[name]

    rows: dict[int, int] = {}
    places = {"seed": (0.0, 0.0)}
    for name in follows:
        column = level(name)
        places[name] = (float(column), float(rows.get(column, 0)))
        rows[column] = rows.get(column, 0) + 1
    for name, target in follows.items():
        axes.annotate("", xy=places[name], xytext=places[target],
                      arrowprops={"arrowstyle": "->", "color": "grey", "shrinkA": 12, "shrinkB": 12})
    for name, (x, y) in places.items():
        axes.scatter([x], [y], s=500, color=colours.get(name, "lightgrey"), zorder=2)
        axes.annotate(name, (x, y), ha="center", va="center", fontsize=8, zorder=3)
    axes.set_title("the chain: who copies whom")
    axes.margins(0.25)
    axes.axis("off")


def plot_journal(path: Path, out: Path) -> None:
    journal = read_journal(path)
    fig = figure(journal, replayed(journal))
    try:
        fig.savefig(out, dpi=DPI)
    except OSError as error:
        raise UserError(f"cannot write {out}: {error.strerror or error}") from None
    finally:
        load_pyplot().close(fig)

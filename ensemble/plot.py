"""A journal as a picture: learning curves with the commands marked, a piano roll, the chain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ensemble.errors import UserError
from ensemble.melody import REST, note_name
from ensemble.performance.journal import Journal, read_journal
from ensemble.performance.sources import journal_source, rehearse
from ensemble.session import Session

SIZE = (12.0, 9.0)  # inches
DPI = 100  # so the PNG is 1200 x 900


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display needed, none opened
        import matplotlib.pyplot as pyplot
    except ImportError:
        raise UserError("plotting needs matplotlib: pip install 'ensemble[plot]'") from None
    return pyplot


def replayed(journal: Journal) -> Session:
    """The session as it stood at the end of the journal, its history too (no sound)."""
    return rehearse(journal_source(journal))


def figure(journal: Journal, session: Session) -> Any:
    pyplot = _pyplot()
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

    _draw_roll(roll, session, names, colours)

    _draw_chain(chain, session, names, colours)
    fig.tight_layout()
    return fig


def _draw_roll(axes: Any, session: Session, names: list[str], colours: dict[str, Any]) -> None:
    """Who played what: each agent in a lane of its own within each semitone, muted ones hollow.
    Only the phrases whose melodies the session holds are drawn: the last HELD_PHRASES."""
    lane = 0.9 / max(1, len(names))
    history = session.history
    steps = history.steps()
    step, notes = int(steps[:history.first_held].sum()), set()
    for phrase in history.held:
        muted = phrase.muted_names()
        for attempt in phrase.attempts():
            if attempt.agent not in colours:
                continue
            bottom = -0.45 + lane * names.index(attempt.agent)
            style = ({"facecolor": "none", "edgecolor": colours[attempt.agent], "linewidth": 0.5}
                     if attempt.agent in muted else {"color": colours[attempt.agent]})
            for offset, note in enumerate(attempt.played):
                if note != REST:
                    axes.broken_barh([(step + offset, 0.9)], (note + bottom, lane), **style)
                    notes.add(note)
        step += int(steps[phrase.index])
    if notes:
        ticks = list(range(min(notes), max(notes) + 1))
        axes.set_yticks(ticks, [note_name(note) for note in ticks], fontsize=6)
    title = "who played what (a lane per agent; hollow: muted)"
    if history.first_held:
        title = (f"who played what in the last {history.phrases - history.first_held} phrases "
                 "(a lane per agent; hollow: muted)")
    axes.set(xlabel="step", ylabel="note", title=title)


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
    session = replayed(journal)
    fig = figure(journal, session)
    try:
        fig.savefig(out, dpi=DPI)
    except OSError as error:
        raise UserError(f"cannot write {out}: {error.strerror or error}") from None
    finally:
        _pyplot().close(fig)

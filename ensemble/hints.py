"""Typo hints: the nearest word a performer may have meant."""

from __future__ import annotations

from collections.abc import Iterable


def distance(a: str, b: str) -> int:
    """Edits between two words: insert, delete, change, or swap two neighbours (a common typo)."""
    rows = [list(range(len(b) + 1))] + [[i] + [0] * len(b) for i in range(1, len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            changed = rows[i - 1][j - 1] + (a[i - 1] != b[j - 1])
            rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, changed)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
    return rows[-1][-1]


def nearest(word: str, options: Iterable[str]) -> str | None:
    """The closest option within a typo's reach, or None."""
    reach = max(2, len(word) // 3)
    # Words further apart in length than the reach cannot be within it: so only words of about
    # an option's length are compared, and a pasted megabyte costs no more than a typo.
    scored = sorted((distance(word, option), index, option) for index, option in enumerate(options)
                    if abs(len(word) - len(option)) <= reach)
    return scored[0][2] if scored and scored[0][0] <= reach else None


def hint(word: str, options: Iterable[str], what: str) -> str:
    """` (did you mean 'x'?)`, or ` (what: a, b, c)` when nothing is close."""
    options = list(options)
    close = nearest(word, options)
    return f" (did you mean '{close}'?)" if close else f" ({what}: {', '.join(options)})"

"""Text that came from outside (the network, a device, a file, a typed word), made safe to show.

A forged reply could carry terminal escape sequences, and a pasted word can be a megabyte long:
both are shown as one short line of printable characters.
"""

from __future__ import annotations

SHOWN = 60  # characters of an outside word or message that are shown


def printable(text: str, limit: int = SHOWN) -> str:
    """`text` with every control character as `\\xNN` (or `\\uNNNN`), cut to about `limit`
    characters with an ellipsis and the full length."""
    cut = text[:limit]
    shown = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in cut)
    return shown if len(text) <= limit else f"{shown}… ({len(text)} characters)"

"""Targets an agent can never copy: notes its palette lacks, lengths its rhythm lacks. Said
once to the performer when it starts (or changes), with the `set` that would mend it."""

from __future__ import annotations

import logging

from ensemble.learning.chain import Attempt, Chain
from ensemble.learning.settings import LearningSettings
from ensemble.melody import REST, note_name
from ensemble.rhythm import length_text

log = logging.getLogger(__name__)


class Reach:
    """What each agent was last told it cannot reach."""

    def __init__(self) -> None:
        self._told: dict[str, tuple[frozenset[int], frozenset[int]]] = {}  # agent -> notes, lengths

    def check(self, attempts: list[Attempt], chain: Chain) -> None:
        for attempt in attempts:
            if not attempt.heard:
                continue
            settings = chain.settings(attempt.agent)
            missing = frozenset(attempt.target) - frozenset(settings.actions)
            playable = settings.rhythm.lengths or (chain.step_length,)
            short = frozenset(attempt.target_lengths or ()) - frozenset(playable)
            if (missing, short) == self._told.get(attempt.agent, (frozenset(), frozenset())):
                continue
            self._told[attempt.agent] = (missing, short)
            if missing:
                _missing_notes(attempt.agent, settings, missing)
            if short:
                wanted = ",".join(length_text(t) for t in sorted(short | set(playable)))
                log.warning("%s cannot reach its target: lengths %s not in its rhythm %s (set %s rhythm=%s)",
                            attempt.agent, " ".join(length_text(t) for t in sorted(short)), settings.rhythm,
                            attempt.agent, wanted)


def _missing_notes(agent: str, settings: LearningSettings, missing: frozenset[int]) -> None:
    notes = sorted(note for note in missing if note != REST)
    fixes = []
    if notes:
        low = min(notes[0], settings.palette.low)
        high = max(notes[-1], settings.palette.high)
        fixes.append(f"palette=chromatic:{note_name(low)}-{note_name(high)}")
    if REST in missing:
        fixes.append("rests=on")
    heard = " ".join(note_name(note) for note in sorted(missing))
    log.warning("%s cannot reach its target: %s not in its palette %s%s (set %s %s)",
                agent, heard, settings.palette, "" if settings.rests else " without rests",
                agent, " ".join(fixes))

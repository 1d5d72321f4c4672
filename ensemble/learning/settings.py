"""How an agent learns: its validated, immutable learning settings. Nothing about sound here."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from ensemble.errors import UserError
from ensemble.learning.priors import PRIORS
from ensemble.melody import Palette
from ensemble.rhythm import STEP, Rhythm
from ensemble.values import SWITCH, Spec, choice, number, parse_value

REWARDS = ("exact", "near", "pitchclass", "listen")
HAND_OFF_AS = ("greedy", "sample")
INITS = ("zero", "optimistic")
DEFAULT_PALETTE = Palette("major", 60, 72)
DEFAULT_RHYTHM = Rhythm()  # one step a note


@dataclass(frozen=True)
class HandOff:
    """When an agent passes its melody on to its followers: `each` attempt (as it stands), only
    `after` N attempts, or once an attempt's accuracy reaches `at` X; until then its followers
    keep what it passed on last."""

    rule: str = "each"
    value: float = 0.0

    @classmethod
    def parse(cls, text: str) -> HandOff:
        rule, colon, value = text.partition(":")
        if text == "each":
            return cls()
        try:
            number = float(value) if colon else math.nan
        except ValueError:
            number = math.nan
        if rule == "after" and number.is_integer() and 1 <= number <= 100_000:
            return cls("after", number)
        if rule == "at" and 0 < number <= 1:
            return cls("at", number)
        raise ValueError("each, after:N (attempts, 1..100000) or at:X (accuracy, 0..1)")

    def __str__(self) -> str:
        if self.rule == "each":
            return "each"
        return f"after:{int(self.value)}" if self.rule == "after" else f"at:{self.value:g}"


@dataclass(frozen=True)
class LearningSettings:
    # gamma defaults to 0: the next state (step position) does not depend on the action, so
    # bootstrapping adds no information, only inertia when a target changes.
    alpha: float = 0.5
    gamma: float = 0.0
    epsilon: float = 0.3
    epsilon_decay: float = 0.85
    epsilon_min: float = 0.02
    reward: str = "exact"
    palette: Palette = DEFAULT_PALETTE
    rests: bool = True
    init: str = "zero"
    practice: int = 0
    rhythm: Rhythm = DEFAULT_RHYTHM
    # How copying goes wrong in musical ways (issue "Chains that evolve"); the defaults copy as
    # agents always did.
    prior: str = "none"  # what it expects a melody to be: priors.py
    prior_strength: float = 0.5  # how much: added to its values, times the prior's score
    handoff: HandOff = HandOff()  # when it passes its melody on
    handoff_as: str = "greedy"  # what it passes on: its best guess, or a sample (its last attempt)

    @property
    def actions(self) -> tuple[int, ...]:
        """The notes this agent may play, REST last when rests are allowed."""
        return replace(self.palette, with_rest=self.rests).notes

    @property
    def lengths(self) -> tuple[int, ...]:
        """The lengths (ticks) this agent may play: its rhythm palette, or STEP alone (one step,
        whatever it is) by default, as before lengths existed."""
        return self.rhythm.lengths or (STEP,)

    @property
    def moves(self) -> tuple[tuple[int, int], ...]:
        """Every (note, length) pair the agent may play at a step, note by note."""
        return tuple((note, length) for note in self.actions for length in self.lengths)

    def summary(self) -> str:
        """Its main settings as `set` writes them (the evolving ones where they are not the defaults)."""
        words = [f"alpha={self.alpha:g}", f"reward={self.reward}", f"palette={self.palette}"]
        words += [f"rhythm={self.rhythm}"] if self.rhythm.lengths else []
        if self.prior != "none":
            words += [f"prior={self.prior}", f"prior_strength={self.prior_strength:g}"]
        words += [f"handoff={self.handoff}"] if self.handoff.rule != "each" else []
        words += [f"handoff_as={self.handoff_as}"] if self.handoff_as != "greedy" else []
        return " ".join(words)

    def changed(self, changes: Mapping[str, str]) -> LearningSettings:
        """A copy with `changes` (text values) parsed and validated, all or nothing."""
        return replace(self, **{key: parse_value(LEARNING, key, text) for key, text in changes.items()})


def _palette(text: str) -> Palette:
    try:
        return Palette.parse(text)
    except UserError as error:
        raise ValueError(str(error)) from None


def _rhythm(text: str) -> Rhythm:
    try:
        return Rhythm.parse(text)
    except UserError as error:
        raise ValueError(str(error)) from None


LEARNING: dict[str, Spec] = {
    "alpha": number(float, 0.0, 1.0),
    "gamma": number(float, 0.0, 0.99),
    "epsilon": number(float, 0.0, 1.0),
    "epsilon_decay": number(float, 0.0, 1.0),
    "epsilon_min": number(float, 0.0, 1.0),
    "reward": choice(REWARDS),
    "palette": Spec(_palette, "SCALE:LOW-HIGH, e.g. major:C4-C6 or chromatic:C3-C5"),
    "rests": SWITCH,
    "init": choice(INITS),
    "practice": number(int, 0, 64),
    "rhythm": Spec(_rhythm, "step, or lengths in beats: 0.25,0.5,1 (multiples of 1/16, up to 16)",
                   ("step", "0.5,1", "0.25,0.5,1", "0.5,1,2", "0.25,0.5,0.75,1,1.5,2")),
    "prior": choice(PRIORS),
    "prior_strength": number(float, 0.0, 4.0),
    "handoff": Spec(HandOff.parse, "each, after:N (attempts) or at:X (accuracy, 0..1)",
                    ("each", "after:8", "at:0.8")),
    "handoff_as": choice(HAND_OFF_AS),
}

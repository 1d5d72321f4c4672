"""The chain of agents: who copies whom, and one step = every agent's next attempt."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ensemble.errors import UserError
from ensemble.events import Sound
from ensemble.hyperparams import Hyperparameters
from ensemble.learning.qlearning import QBank
from ensemble.listening.ear import Ear, Timbre
from ensemble.melody import Melody

SEED = "seed"
MAX_AGENTS = 256
SEED_SOUND = Sound()  # how the seed sounds to an agent that listens to it: the default saw
DEFAULT_STEP_SECONDS = 0.25


@dataclass(frozen=True)
class Attempt:
    """One agent's pass over the melody: what it aimed at, what it played, how close it got."""

    agent: str
    target: tuple[int, ...]
    played: tuple[int, ...]
    reward: float  # mean reward per step, in [-1, 1]
    heard: bool  # False for silent practice attempts

    @property
    def accuracy(self) -> float:
        """Share of steps played exactly as the target."""
        hits = sum(p == t for p, t in zip(self.played, self.target, strict=True))
        return hits / len(self.target)


class Ensemble:
    """Agents a0, a1, ... each copying the seed or another agent's greedy melody.

    Deterministic for a given seed and sequence of calls.
    """

    def __init__(self, melody: Melody, seed: int = 0, ear: Ear | None = None) -> None:
        self.melody = melody
        self.defaults = Hyperparameters()
        self.names: list[str] = []
        self.follows: dict[str, str] = {}
        self._bank = QBank(len(melody), np.random.default_rng(seed))
        self.next_index = 0
        # Listening agents hear their steps at this length (the session keeps it at the tempo's).
        self.step_seconds = DEFAULT_STEP_SECONDS
        self.ear = ear  # made when an agent first listens: it needs the Glicol engine

    # -- shaping the chain ------------------------------------------------------------------

    def spawn(self, count: int = 1) -> list[str]:
        """Add `count` agents at the end of the chain; each copies the one before it."""
        if len(self.names) + count > MAX_AGENTS:
            raise UserError(f"at most {MAX_AGENTS} agents (there are {len(self.names)})")
        added = []
        for _ in range(count):
            name = f"a{self.next_index}"
            self.next_index += 1
            self.follows[name] = self.names[-1] if self.names else SEED
            self.names.append(name)
            self._bank.add(self.defaults)
            added.append(name)
        return added

    def configure(self, who: str, changes: Mapping[str, str]) -> None:
        """`set WHO key=value ...`: `all` also changes the defaults of agents spawned later."""
        defaults = self.defaults
        if who == "all":
            defaults = self.defaults.changed(changes)
            updated = [(row, h.changed(changes)) for row, h in enumerate(self._bank.hyper)]
        else:
            row = self._row(who)
            updated = [(row, self._bank.hyper[row].changed(changes))]
        if self.ear is None and "listen" in [defaults.reward] + [h.reward for _, h in updated]:
            self.ear = Ear()  # raises, changing nothing, when the engine cannot be had
        self.defaults = defaults
        for row, hyper in updated:  # all validated before any is changed
            self._bank.configure(row, hyper)

    def remove(self, name: str) -> None:
        """Take an agent out of the chain; whoever copied it copies what it copied."""
        row = self._row(name)
        heir = self.follows.pop(name)
        for follower, target in self.follows.items():
            if target == name:
                self.follows[follower] = heir
        self.names.pop(row)
        self._bank.remove(row)

    def follow(self, name: str, target: str) -> None:
        """Rewire: `name` copies `target` (an agent or the seed) from its next attempt on."""
        self._row(name)
        if target != SEED:
            self._row(target)
        if target == name:
            raise UserError(f"{name} cannot copy itself (follow {name} seed, or another agent)")
        self.follows[name] = target

    def forget(self, name: str) -> None:
        """Start an agent over: fresh Q-values and its first epsilon."""
        self._bank.forget(self._row(name))

    def train(self, names: list[str], attempts: int) -> list[Attempt]:
        """`attempts` silent attempts for `names`, now (the others wait)."""
        rows = [self._row(name) for name in names]
        active = np.zeros(len(self.names), dtype=bool)
        active[rows] = True
        made = []
        for _ in range(attempts):
            made += self._round(active, heard=False)
        return made

    def reseed(self, melody: Melody) -> None:
        if len(melody) != len(self.melody):
            self._bank.resize_steps(len(melody))
        self.melody = melody

    def hyperparameters(self, name: str) -> Hyperparameters:
        return self._bank.hyper[self._row(name)]

    def sound(self, name: str) -> Sound:
        hyper = self.hyperparameters(name)
        channel = hyper.channel or int(name[1:]) % 16 + 1  # a0 on channel 1, a1 on 2, ...
        program = hyper.program if hyper.program >= 0 else None
        return Sound(hyper.voice, hyper.amp, hyper.pan, hyper.cutoff, channel, program)

    def epsilon(self, name: str) -> float:
        return float(self._bank.epsilon[self._row(name)])

    # -- learning ---------------------------------------------------------------------------

    def greedy(self, name: str) -> tuple[int, ...]:
        return tuple(int(n) for n in self._bank.greedy()[self._row(name)])

    def step(self) -> list[Attempt]:
        """Every agent makes its heard attempt, then the silent practice attempts it asks for.

        Each attempt's target is read when it starts: for a(k), a(k-1)'s greedy melody as it
        stood before this round, so the whole chain learns in one vectorised pass per round.
        """
        if not self.names:
            return []
        practice = np.array([h.practice for h in self._bank.hyper])
        attempts: list[Attempt] = []
        for round_index in range(1 + int(practice.max())):
            attempts += self._round(practice >= round_index, heard=round_index == 0)
        return attempts

    def _round(self, active: np.ndarray, heard: bool) -> list[Attempt]:
        targets = self._targets()
        played, reward = self._bank.attempt(targets, active, self._listen)
        return [Attempt(agent=self.names[row], target=tuple(int(n) for n in targets[row]),
                        played=tuple(int(n) for n in played[row]), reward=float(reward[row].mean()),
                        heard=heard)
                for row in np.flatnonzero(active)]

    def _listen(self, rows: np.ndarray, played: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Rewards for listening agents: each hears its own voice against its target's."""
        assert self.ear is not None, "configure() makes the ear before anyone listens"
        result = np.empty(played.shape)
        pairs: dict[tuple[Timbre, Timbre], list[int]] = {}
        for index, row in enumerate(rows):
            name = self.names[row]
            leader = self.follows[name]
            pair = (self._timbre(self.sound(name)),
                    self._timbre(SEED_SOUND if leader == SEED else self.sound(leader)))
            pairs.setdefault(pair, []).append(index)
        for (mine, theirs), indices in pairs.items():
            result[indices] = self.ear.rewards(played[indices], mine, targets[indices], theirs)
        return result

    def _timbre(self, sound: Sound) -> Timbre:
        return Timbre(sound.voice, sound.cutoff, round(self.step_seconds, 4))

    def _targets(self) -> np.ndarray:
        greedy = self._bank.greedy()
        seed = np.array(self.melody.notes, dtype=np.int64)
        rows = [seed if self.follows[name] == SEED else greedy[self._row(self.follows[name])]
                for name in self.names]
        return np.stack(rows)

    def _row(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            known = ", ".join(self.names) or "none yet: spawn some"
            raise UserError(f"no agent '{name}' (agents: {known})") from None

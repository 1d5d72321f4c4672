"""The chain of agents: who copies whom, and one step = every agent's next attempt."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from ensemble.errors import UserError
from ensemble.learning.qlearning import QBank
from ensemble.learning.settings import LearningSettings
from ensemble.melody import Melody

SEED = "seed"
MAX_AGENTS = 256
OUTSIDE = "/"  # in a target's name: an agent on another laptop (`alice/a3`), known by what it shares

# (agents, whom each copies, played, targets) -> per-step rewards in [-1, 1] for agents whose
# reward is `listen`. Only the caller knows how agents sound, so it is handed in.
Hear = Callable[[list[str], list[str], np.ndarray, np.ndarray], np.ndarray]
# The same with rhythm, for the timing part: (agents, whom each copies, played notes, played
# lengths, target notes, target lengths in ticks) -> per-step timing rewards, heard.
HearTiming = Callable[[list[str], list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def agent_name(number: int) -> str:
    """The n-th agent ever spawned: a0, a1, ... (numbers are never reused)."""
    return f"a{number}"


def agent_number(name: str) -> int:
    return int(name[1:])


@dataclass(frozen=True, slots=True)  # slots: tens of thousands are made a minute
class Attempt:
    """One agent's pass over the melody: what it aimed at, what it played, how close it got."""

    agent: str
    target: tuple[int, ...]
    played: tuple[int, ...]
    reward: float  # mean reward per step, in [-1, 1]
    heard: bool  # False for silent practice attempts
    # With rhythm, each step's length in ticks (a step resolved); None when all is steps.
    lengths: tuple[int, ...] | None = None
    target_lengths: tuple[int, ...] | None = None

    @property
    def accuracy(self) -> float:
        """Share of steps played exactly as the target (note and length)."""
        return accuracy(self.played, self.target, self.lengths, self.target_lengths) or 0.0


def accuracy(played: tuple[int, ...], wanted: tuple[int, ...], played_lengths: tuple[int, ...] | None = None,
             wanted_lengths: tuple[int, ...] | None = None) -> float | None:
    """Share of steps played as wanted, lengths too when both have them; None when the two
    differ in length (a re-seed)."""
    if len(played) != len(wanted):
        return None
    hits = [p == w for p, w in zip(played, wanted, strict=True)]
    if played_lengths is not None and wanted_lengths is not None:
        hits = [hit and p == w for hit, p, w in zip(hits, played_lengths, wanted_lengths, strict=True)]
    return sum(hits) / len(wanted)


def is_outside(target: str) -> bool:
    """Whether `target` is an agent on another laptop (`alice/a3`)."""
    return OUTSIDE in target


class Chain:
    """Agents a0, a1, ... each copying the seed, another agent's greedy melody, or the melody an
    agent on another laptop last shared (`outside`; the seed's until one has come).

    Deterministic for a given seed and sequence of calls. `can_listen` is asked before any
    agent is set to listen (it may raise UserError: no ear to be had); `hear` rewards them.
    """

    def __init__(self, melody: Melody, seed: int = 0, hear: Hear | None = None,
                 can_listen: Callable[[], None] = lambda: None,
                 hear_timing: HearTiming | None = None) -> None:
        self.melody = melody
        self.defaults = LearningSettings()
        self.names: list[str] = []
        self.follows: dict[str, str] = {}
        self.outside: dict[str, Melody] = {}  # `alice/a3` -> what it shared last (kept when it goes quiet)
        # Agents that hand their melody on by a rule of their own (settings.HandOff, handoff_as):
        # what each passed on last, and how many attempts it has made. The others pass on their
        # greedy melody as it stands, read afresh each round.
        self._passed: dict[str, Melody] = {}
        self._attempts: dict[str, int] = {}
        self._bank = QBank(len(melody), np.random.default_rng(seed))
        self.step_length = 8  # ticks of a step (0.5 beat), for melodies with lengths; STEP when off the grid
        self.next_index = 0
        self.hear = hear
        self.hear_timing = hear_timing
        self.can_listen = can_listen

    # -- shaping the chain ------------------------------------------------------------------

    def spawn(self, count: int = 1, first_follows: str | None = None) -> list[str]:
        """Add `count` agents at the end of the chain; each copies the one before it, the first
        `first_follows` if given (an agent on another laptop: a sub-chain of it here)."""
        if len(self.names) + count > MAX_AGENTS:
            raise UserError(f"at most {MAX_AGENTS} agents (there are {len(self.names)})")
        if first_follows is not None:
            self._check_target(first_follows)
        added: list[str] = []
        for _ in range(count):
            name = agent_name(self.next_index)
            self.next_index += 1
            before = added[-1] if added else first_follows or (self.names[-1] if self.names else SEED)
            self.follows[name] = before
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
        if "listen" in [defaults.reward] + [h.reward for _, h in updated]:
            self.can_listen()  # raises, changing nothing, when there is no ear
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
        self._passed.pop(name, None)
        self._attempts.pop(name, None)

    def follow(self, name: str, target: str) -> None:
        """Rewire: `name` copies `target` (an agent, here or on another laptop, itself, or the
        seed) from its next attempt on. The last agent copied by the first makes a loop."""
        self._row(name)
        self._check_target(target)
        self.follows[name] = target  # itself too: one learner re-copying itself, the control condition

    def _check_target(self, target: str) -> None:
        if target != SEED and not is_outside(target):
            self._row(target)

    def hear_outside(self, target: str, melody: Melody) -> None:
        """What agent `target` on another laptop shared: its followers here copy it from now on."""
        self.outside[target] = melody

    def outside_targets(self) -> set[str]:
        """The agents on other laptops that agents here copy."""
        return {target for target in self.follows.values() if is_outside(target)}

    def forget(self, name: str) -> None:
        """Start an agent over: fresh Q-values and its first epsilon (and its count of attempts
        toward handing on: what it passed on last stays with its followers until it is ready)."""
        self._bank.forget(self._row(name))
        self._attempts.pop(name, None)

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

    def settings(self, name: str) -> LearningSettings:
        return self._bank.hyper[self._row(name)]

    def epsilon(self, name: str) -> float:
        return float(self._bank.epsilon[self._row(name)])

    # -- learning ---------------------------------------------------------------------------

    def greedy(self, name: str) -> tuple[int, ...]:
        return tuple(int(n) for n in self._bank.greedy()[self._row(name)])

    def greedy_melodies(self) -> dict[str, Melody]:
        """Every agent's greedy melody, with its lengths (ticks) when lengths are in play: what
        is shared with other laptops."""
        notes = self._bank.greedy()
        lengths = self._bank.greedy_lengths(self.step_length) if self.rhythmic else None
        return {name: Melody(_ints(notes, row), _maybe_ints(lengths, row))
                for row, name in enumerate(self.names)}

    @property
    def rhythmic(self) -> bool:
        """Whether lengths are in play: the seed has them, or an agent may choose them."""
        return self.melody.rhythmic or self._bank.rhythmic

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
        self._hold_back()
        targets = self._targets()
        target_lengths = self._target_lengths() if self.rhythmic else None
        played = self._bank.attempt(targets, active, self._listen, target_lengths, self.step_length,
                                    None if self.hear_timing is None else self._listen_timing)
        attempts = [Attempt(agent=self.names[row], target=_ints(targets, row),
                            played=_ints(played.notes, row), reward=float(played.reward[row].mean()),
                            heard=heard,
                            lengths=_maybe_ints(played.lengths, row),
                            target_lengths=_maybe_ints(target_lengths, row))
                    for row in np.flatnonzero(active).tolist()]
        self._hand_off(attempts)
        return attempts

    def _hold_back(self) -> None:
        """An agent given a hand-off rule holds its melody as it stands until it is ready."""
        waiting = [name for name, settings in zip(self.names, self._bank.hyper, strict=True)
                   if _has_a_rule(settings) and name not in self._passed]
        if waiting:
            greedy = self.greedy_melodies()
            self._passed.update({name: greedy[name] for name in waiting})

    def _hand_off(self, attempts: list[Attempt]) -> None:
        """After a round: what each agent with a hand-off rule passes on from now on."""
        hyper = dict(zip(self.names, self._bank.hyper, strict=True))
        greedy: dict[str, Melody] | None = None
        for attempt in attempts:
            agent, settings = attempt.agent, hyper[attempt.agent]
            if not _has_a_rule(settings):
                self._passed.pop(agent, None)  # it passes on its greedy melody, read afresh
                continue
            count = self._attempts[agent] = self._attempts.get(agent, 0) + 1
            rule = settings.handoff
            ready = (rule.rule == "each" or (rule.rule == "after" and count >= rule.value)
                     or (rule.rule == "at" and attempt.accuracy >= rule.value))
            if not ready:
                continue
            if settings.handoff_as == "sample":  # a sample of what it learned: what it played, exploring too
                self._passed[agent] = Melody(attempt.played, attempt.lengths)
            else:
                greedy = greedy or self.greedy_melodies()
                self._passed[agent] = greedy[agent]

    def _listen(self, rows: np.ndarray, played: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Rewards for listening agents, from whoever was handed in to hear them."""
        if self.hear is None:
            raise UserError("no agent can listen here: nothing was given to hear them with")
        names = [self.names[row] for row in rows]
        return self.hear(names, [self.follows[name] for name in names], played, targets)

    def _listen_timing(self, rows: np.ndarray, played: np.ndarray, lengths: np.ndarray, targets: np.ndarray,
                       target_lengths: np.ndarray) -> np.ndarray:
        """The timing part of listening agents' rewards, heard by whoever was handed in."""
        if self.hear_timing is None:
            raise UserError("no agent can listen here: nothing was given to hear them with")
        names = [self.names[row] for row in rows]
        return self.hear_timing(names, [self.follows[name] for name in names], played, lengths, targets,
                                target_lengths)

    def _targets(self) -> np.ndarray:
        """Each agent's target notes: the seed's, or its predecessor's greedy ones."""
        return self._copied(np.array(self.melody.notes, dtype=np.int64), self._bank.greedy(),
                            lambda melody: melody.notes)

    def _target_lengths(self) -> np.ndarray:
        """Each agent's target's lengths in ticks: the seed's, or its predecessor's greedy ones."""
        return self._copied(np.array(self.melody.ticks(self.step_length), dtype=np.int64),
                            self._bank.greedy_lengths(self.step_length),
                            lambda melody: melody.ticks(self.step_length))

    def _copied(self, seed: np.ndarray, greedy: np.ndarray,
                outside: Callable[[Melody], tuple[int, ...]]) -> np.ndarray:
        """Per agent, the seed's row, its predecessor's row of `greedy`, or (`outside` reading
        it) what its predecessor passed on by a rule of its own or shared from another laptop,
        fitted to our phrase's steps."""
        rows = []
        for name in self.names:
            target = self.follows[name]
            if is_outside(target):
                shared = self.outside.get(target)
                rows.append(seed if shared is None else np.array(fitted(outside(shared), len(seed))))
            elif target in self._passed:
                rows.append(np.array(fitted(outside(self._passed[target]), len(seed))))
            else:
                rows.append(seed if target == SEED else greedy[self._row(target)])
        return np.stack(rows)

    def _row(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            known = ", ".join(self.names) or "none yet: spawn some"
            raise UserError(f"no agent '{name}' (agents: {known})") from None


def _has_a_rule(settings: LearningSettings) -> bool:
    """Whether an agent hands its melody on otherwise than as it stands, every attempt."""
    return settings.handoff.rule != "each" or settings.handoff_as != "greedy"


def fitted(values: tuple[int, ...], steps: int) -> tuple[int, ...]:
    """A melody from another laptop on our phrase's `steps`: cut short, or looped to fill it."""
    return tuple(values[index % len(values)] for index in range(steps))


def _ints(values: np.ndarray, row: int) -> tuple[int, ...]:
    return tuple(int(v) for v in values[row])


def _maybe_ints(values: np.ndarray | None, row: int) -> tuple[int, ...] | None:
    return None if values is None else _ints(values, row)

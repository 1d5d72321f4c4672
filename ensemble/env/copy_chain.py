"""copy_chain_v0: the ensemble's chain as a PettingZoo AEC environment, for multi-agent learners.

Agents agent_0 ... agent_{n-1} take turns in that order, and a turn is one attempt at the melody
the agent's predecessor passes on: agent_0 copies the seed, agent_k copies agent_{k-1}. With
`loop=True` agent_0 copies the last agent once that one has played, so the melody keeps
travelling; a single looping agent re-copies itself (the control condition of iterated
learning). An agent whose predecessor has not played yet copies the seed.

What a predecessor passes on (`handoff_as`, named as the agents' own setting): "sample", the
attempt it made on its most recent turn, exploration and all (the default: an agent's turns are
all the environment sees of it); or "best", its best-rewarded attempt at the target it has now
(the latest among equals), the nearest the environment comes to the greedy melody the ensemble's
own agents pass on by default.

Action: `MultiDiscrete([moves] * steps)`, per step the index of a note of the palette (rest last
with `rests=True`) or, with a rhythm, of a (note, length) pair, as in CopyMelody-v0. Observation:
`Box(2 * steps)`, the indices the agent played on its last turn (-1 before its first) followed
by each of those steps' rewards: the feedback an agent learns from, the target staying hidden
(it is in `info`). Reward: the attempt's mean step reward in [-1, 1], from the functions the
ensemble's agents learn by (`exact`, `near`, `pitchclass`, or `listen`: the Ear hears the
attempt in the agent's voice against the target in its predecessor's). Episodes are truncated
after `max_cycles` turns each. An agent's observation changes on its own turns only, so the
parallel version (`parallel_env`) is the same game: within a cycle agent_k still copies what
agent_{k-1} played in that cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding

try:
    from pettingzoo import AECEnv, ParallelEnv
    from pettingzoo.utils.conversions import aec_to_parallel
    from pettingzoo.utils.wrappers import OrderEnforcingWrapper
except ImportError as error:  # pragma: no cover - depends on the installation
    raise ImportError("ensemble.env.copy_chain needs PettingZoo: "
                      "pip install 'ensemble[pettingzoo]'") from error

from ensemble.env.copy_melody import (
    NOTEBOOK_MELODY,
    NOTEBOOK_PALETTE,
    STEP_TICKS,
    check_step_seconds,
    checked_option,
    checked_render_mode,
    ear_for,
    melody_of,
    moves_of,
    timed_text,
)
from ensemble.learning.chain import MAX_AGENTS
from ensemble.learning.rewards import REWARD_CODES, is_graded, joint, rewards
from ensemble.listening.ear import Ear, Timbre
from ensemble.melody import REST, Melody, melody_text

HANDOFF_AS = ("sample", "best")
MAX_STEPS = 64  # of a melody drawn at random

# A melody as the chain passes it: its notes and, with a rhythm, their lengths in ticks.
Passed = tuple[tuple[int, ...], tuple[int, ...] | None]


class CopyChainEnv(AECEnv):
    # A class attribute, as PettingZoo has it; parallelizable: see the module's docstring.
    metadata: dict[str, Any] = {"render_modes": ["ansi"], "name": "copy_chain_v0",  # noqa: RUF012
                                "is_parallelizable": True, "render_fps": 4}

    def __init__(self, n_agents: int = 4, melody: str | Sequence[int] | None = NOTEBOOK_MELODY,
                 palette: str = NOTEBOOK_PALETTE, rests: bool = False, reward: str = "exact",
                 loop: bool = False, handoff_as: str = "sample", max_cycles: int = 300, steps: int = 8,
                 voice: str | Sequence[str] = "saw", seed_voice: str = "saw", cutoff: float = 2400.0,
                 step_seconds: float = 0.25, rhythm: str | Sequence[float] | None = None,
                 render_mode: str | None = None, ear: Ear | None = None) -> None:
        """`melody=None` draws a seed of `steps` notes (and lengths, with a rhythm) from the
        palette at every reset, from the seed. `voice`: one for every agent, or one each."""
        super().__init__()
        if not 1 <= n_agents <= MAX_AGENTS:
            raise ValueError(f"n_agents={n_agents}: allowed 1 to {MAX_AGENTS}")
        if handoff_as not in HANDOFF_AS:
            raise ValueError(f"handoff_as={handoff_as!r}: choose from {', '.join(HANDOFF_AS)}")
        if max_cycles < 1:
            raise ValueError(f"max_cycles={max_cycles}: at least 1 (turns each agent takes)")
        if melody is None and not 1 <= steps <= MAX_STEPS:
            raise ValueError(f"steps={steps}: allowed 1 to {MAX_STEPS} (notes of a seed drawn at random)")
        self.fixed_melody = None if melody is None else melody_of(melody)
        template = self.fixed_melody or Melody((60,) * steps)
        self.steps = len(template)
        # Each move's note and (with a rhythm) length in ticks, as CopyMelody-v0 numbers them.
        self.actions, self.lengths = moves_of(palette, rests, rhythm, template)
        self.reward_kind: str = checked_option("reward", reward)
        cutoff = checked_option("cutoff", cutoff)
        check_step_seconds(step_seconds)
        voices = [voice] * n_agents if isinstance(voice, str) else list(voice)
        if len(voices) != n_agents:
            raise ValueError(f"voice: give one voice, or one for each of the {n_agents} agents")
        self.timbres = [Timbre(checked_option("voice", v), cutoff, float(step_seconds)) for v in voices]
        self.seed_timbre = Timbre(checked_option("voice", seed_voice), cutoff, float(step_seconds))
        self.render_mode = checked_render_mode(render_mode, self.metadata["render_modes"])
        self.ear = ear_for(self.reward_kind, ear)
        self.loop, self.handoff_as, self.max_cycles = loop, handoff_as, max_cycles

        self.possible_agents = [f"agent_{k}" for k in range(n_agents)]
        self._index = {agent: k for k, agent in enumerate(self.possible_agents)}
        moves = len(self.actions)
        action_space = spaces.MultiDiscrete([moves] * self.steps)
        low = np.full(2 * self.steps, -1.0, dtype=np.float32)
        high = np.concatenate([np.full(self.steps, moves - 1.0), np.ones(self.steps)]).astype(np.float32)
        observation_space = spaces.Box(low, high, dtype=np.float32)
        # PettingZoo wants the same space object every time it asks for an agent's.
        self.action_spaces = {agent: action_space for agent in self.possible_agents}
        self.observation_spaces = {agent: observation_space for agent in self.possible_agents}
        self.np_random: np.random.Generator | None = None
        self.seed_melody = Melody((REST,))  # set by reset()
        self._clear_turns()

    # -- PettingZoo's API -------------------------------------------------------------------------

    def observation_space(self, agent: str) -> spaces.Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self.action_spaces[agent]

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """A new chain: nobody has played. options: `melody` (the same number of steps)."""
        if seed is not None or self.np_random is None:
            self.np_random, _ = seeding.np_random(seed)
        options = options or {}
        if "melody" in options:
            melody = melody_of(options["melody"])
            if len(melody) != self.steps:
                raise ValueError(f"the melody must keep its {self.steps} steps "
                                 "(make a new environment for another length)")
            if melody.rhythmic and self.lengths is None:
                raise ValueError("the melody has lengths: make a new environment with a rhythm to play them")
            self.seed_melody = melody
        else:
            self.seed_melody = self.fixed_melody or self._drawn_melody()
        self._clear_turns()
        self.agents = list(self.possible_agents)
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos: dict[str, dict[str, Any]] = {agent: {} for agent in self.agents}
        self.agent_selection = self.agents[0]

    def observe(self, agent: str) -> np.ndarray:
        k = self._index[agent]
        played = self._played[k]
        indices = np.full(self.steps, -1.0) if played is None else np.array(played, dtype=np.float64)
        return np.concatenate([indices, self._step_rewards[k]]).astype(np.float32)

    def step(self, action: Any) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)  # PettingZoo's way of retiring an agent: action None
            return
        if not self.action_spaces[agent].contains(np.asarray(action)):
            raise ValueError(f"action {action!r} is not in {self.action_spaces[agent]}")
        k = self._index[agent]
        moves = tuple(int(move) for move in np.asarray(action))
        target = self._target_passed(k)
        attempt = self._melody_of(moves)
        step_rewards = self._rewards(k, attempt, target)
        reward = float(step_rewards.mean())
        self._played[k], self._step_rewards[k] = moves, step_rewards
        self._hand_on(k, attempt, target, reward)

        self._cumulative_rewards[agent] = 0.0
        self._clear_rewards()
        self.rewards[agent] = reward
        self.infos[agent] = self._info(attempt, target, step_rewards)
        if k == len(self.possible_agents) - 1:
            self._cycles += 1
            if self._cycles >= self.max_cycles:
                self.truncations = dict.fromkeys(self.agents, True)
        self.agent_selection = self.possible_agents[(k + 1) % len(self.possible_agents)]
        self._accumulate_rewards()

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        width = max(len(name) for name in ("seed", *self.possible_agents))
        lines = [f"{'seed'.ljust(width)}  {self._text(self._seed_passed())}"]
        for k, agent in enumerate(self.possible_agents):
            played = self._played[k]
            if played is None:
                lines.append(f"{agent.ljust(width)}  -")
            else:
                reward = float(self._step_rewards[k].mean())
                lines.append(f"{agent.ljust(width)}  {self._text(self._melody_of(played))}  {reward:+.2f}")
        return "\n".join(lines)

    def close(self) -> None:
        """Nothing to release: the ear, if any, belongs to whoever may share it."""

    # -- the chain ---------------------------------------------------------------------------------

    def target(self, agent: str) -> Melody:
        """The melody `agent` copies on its next turn (lengths in ticks, with a rhythm)."""
        return Melody(*self._target_passed(self._index[agent]))

    @property
    def melodies(self) -> dict[str, Melody | None]:
        """What each agent passes on now (None before its first turn)."""
        return {agent: None if passed is None else Melody(*passed)
                for agent, passed in zip(self.possible_agents, self._passed, strict=True)}

    @property
    def cycles(self) -> int:
        """Cycles completed since the reset: turns taken by every agent."""
        return self._cycles

    def _clear_turns(self) -> None:
        n = len(self.possible_agents)
        self._played: list[tuple[int, ...] | None] = [None] * n
        self._step_rewards = [np.zeros(self.steps) for _ in range(n)]
        self._passed: list[Passed | None] = [None] * n
        self._best: list[tuple[float, Passed] | None] = [None] * n  # (reward, target) of the best
        self._cycles = 0

    def _predecessor(self, k: int) -> int | None:
        if k > 0:
            return k - 1
        return len(self.possible_agents) - 1 if self.loop else None

    def _target_passed(self, k: int) -> Passed:
        before = self._predecessor(k)
        passed = None if before is None else self._passed[before]
        return self._seed_passed() if passed is None else passed

    def _seed_passed(self) -> Passed:
        ticks = None if self.lengths is None else self.seed_melody.ticks(STEP_TICKS)
        return self.seed_melody.notes, ticks

    def _melody_of(self, moves: Sequence[int]) -> Passed:
        notes = tuple(int(self.actions[move]) for move in moves)
        return notes, None if self.lengths is None else tuple(int(self.lengths[move]) for move in moves)

    def _hand_on(self, k: int, attempt: Passed, target: Passed, reward: float) -> None:
        """What agent k passes on after this attempt, by `handoff_as`."""
        best = self._best[k]
        if self.handoff_as == "sample" or best is None or best[1] != target or reward >= best[0]:
            self._passed[k] = attempt
            self._best[k] = (reward, target)

    def _rewards(self, k: int, attempt: Passed, target: Passed) -> np.ndarray:
        """Each step's reward, from the functions the ensemble's agents learn by."""
        played, target_notes = np.array([attempt[0]]), np.array([target[0]])
        timing = None if attempt[1] is None or target[1] is None else (np.array([attempt[1]]),
                                                                      np.array([target[1]]))
        codes = np.array([REWARD_CODES[self.reward_kind]])
        if self.reward_kind != "listen":
            return rewards(codes, played, target_notes, timing=timing)[0]
        assert self.ear is not None  # __init__ makes one for `listen`
        ear, mine = self.ear, self.timbres[k]
        before = self._predecessor(k)
        theirs = self.seed_timbre if before is None or self._passed[before] is None else self.timbres[before]
        pitch = rewards(codes, played, target_notes,
                        listen=lambda rows, p, t: ear.rewards(p, mine, t, theirs))
        if timing is None:
            return pitch[0]
        tick_seconds = mine.step_seconds / STEP_TICKS  # a step is STEP_TICKS long
        heard = ear.timing(mine, theirs, tick_seconds, played, timing[0], target_notes, timing[1])
        return joint(pitch, heard, is_graded(codes))[0]  # timing heard, as the agents hear it

    def _info(self, attempt: Passed, target: Passed, step_rewards: np.ndarray) -> dict[str, Any]:
        info: dict[str, Any] = {"target": target[0], "attempt": attempt[0],
                                "step_rewards": tuple(float(r) for r in step_rewards)}
        if attempt[1] is not None:
            info["target_lengths"], info["lengths"] = target[1], attempt[1]
        return info

    def _drawn_melody(self) -> Melody:
        """A seed drawn from the palette (rests apart), notes and lengths, from the seed."""
        assert self.np_random is not None  # reset() seeds it first
        pitched = np.flatnonzero(self.actions != REST)
        moves = self.np_random.choice(pitched, size=self.steps)
        notes, lengths = self._melody_of(moves.tolist())
        return Melody(notes, lengths)

    def _text(self, passed: Passed) -> str:
        notes, lengths = passed
        return melody_text(notes) if lengths is None else timed_text(notes, lengths)


def raw_env(**options: Any) -> CopyChainEnv:
    """The environment itself (options: those of CopyChainEnv)."""
    return CopyChainEnv(**options)


def env(**options: Any) -> AECEnv:
    """The environment as PettingZoo hands its own out: checked for calls in the right order."""
    return OrderEnforcingWrapper(CopyChainEnv(**options))


def parallel_env(**options: Any) -> ParallelEnv:
    """Every agent's turn of a cycle in one call (PettingZoo's Parallel API)."""
    return aec_to_parallel(env(**options))

"""How near the live Glicol output is to dropping out, told before it does (as Sonic Pi warns
that a thread is falling behind).

The render thread times every chunk it renders against the chunk's duration: the share of real
time rendering takes, its "load", smoothed over about TAU seconds beside the number of agents
rendered meanwhile. Every agent has a chain in the program (a muted one plays rests), so every
agent costs. A spawn is judged before it is accepted: the load projected with the new agents must
stay within the budget. What a new agent will cost is what one costs in the heaviest voice,
measured on a private engine when the output opened, times how much slower the engine renders
live than it did then (the machine's other work, the other core's): the engine's own time is
timed apart from the rest, and compared with what the calibration says the agents playing cost.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ensemble.glicol.engine import BLOCK, SAMPLE_RATE, GlicolEngine
from ensemble.glicol.program import Voice

# The share of real time rendering may take on this kind of machine (2 cores, the conductor and
# the learning beside it) with no dropouts: above it a phrase boundary's new program, or a busy
# moment of the other core, empties the few chunks rendered ahead (bench/capacity.py).
BUDGET = 0.7
NEAR = 0.85  # of the budget: the performer is warned that more agents will drop out
TAU = 2.0  # seconds over which the load is smoothed: a phrase boundary's spike is not a trend
CALIBRATION_AGENTS = 16
CALIBRATION_BLOCKS = 24
CALIBRATION_ROUNDS = 3
UNDERRUN_INTERVAL = 2.0  # seconds between two reports of underruns
# How slow the engine runs live is judged once the agents playing cost it this share of real time
# by the calibration: below, the sequencer's own per-block work would pass for a slow engine.
EVIDENCE = 0.05


@dataclass(frozen=True)
class EngineCost:
    """Shares of real time the engine takes to render: with no chain, and per chain of each voice."""

    empty: float
    voices: Mapping[str, float]

    @property
    def heaviest(self) -> float:
        return max(self.voices.values(), default=0.0)

    def of(self, agents: Sequence[tuple[str, str]]) -> float:
        """What these (agent, voice) cost the engine, as measured (an unknown voice: the heaviest)."""
        return self.empty + sum(self.voices.get(voice, self.heaviest) for _, voice in agents)


def engine_cost(voices: Mapping[str, Voice]) -> EngineCost:
    """Measured now on a private engine, about 0.1 s: the fastest of a few rounds, so the
    engine's own cost and not the machine's moods (the live render measures those)."""
    empty = _seconds_per_block("")
    audio = BLOCK / SAMPLE_RATE
    costs = {}
    for name, voice in voices.items():
        program = "\n".join(f"c{k}: seq 60 _ 64 67 72 _ 67 64 >> {voice.nodes(0.125)} >> mul 0.01"
                            for k in range(CALIBRATION_AGENTS))
        costs[name] = max(1e-5, (_seconds_per_block(program) - empty) / CALIBRATION_AGENTS / audio)
    return EngineCost(empty / audio, costs)


def _seconds_per_block(program: str) -> float:
    engine = GlicolEngine(on_message=lambda message: None)
    engine.set_bpm(120.0)
    out = np.zeros((CALIBRATION_BLOCKS, 2, BLOCK), dtype=np.float32)
    engine.update(program)
    engine.render_into(out[:2])  # the first block parses the program
    fastest = float("inf")
    for _ in range(CALIBRATION_ROUNDS):
        started = time.perf_counter()
        engine.render_into(out)
        fastest = min(fastest, (time.perf_counter() - started) / CALIBRATION_BLOCKS)
    return fastest


def describe(agents: Sequence[tuple[str, str]]) -> str:
    """'96 agents (a0-a95; 80 saw, 16 tri)' from (name, voice) pairs."""
    if not agents:
        return "no agents"
    names = [name for name, _ in agents]
    span = names[0] if len(names) == 1 else f"{names[0]}-{names[-1]}"
    voices = ", ".join(f"{count} {voice}" for voice, count in Counter(v for _, v in agents).most_common())
    return f"{len(agents)} agent{'s' if len(agents) != 1 else ''} ({span}; {voices})"


class Headroom:
    """The render load, smoothed, and what it can still take. Written by the render thread,
    read from any: each field is one float, replaced whole."""

    def __init__(self, cost: EngineCost, budget: float = BUDGET, tau: float = TAU) -> None:
        self.cost = cost
        self.budget = budget
        self.tau = tau
        self.load = 0.0  # smoothed share of real time that rendering takes
        self.agents = 0.0  # the number of agents rendered, smoothed alike: the load's own
        self.engine = 0.0  # smoothed share of real time the engine alone took
        self.expected = 0.0  # what the calibration says the engine should have taken, smoothed alike
        self.rendering: tuple[tuple[str, str], ...] = ()  # (agent, voice) in the chunk just rendered
        self.measured = 0.0  # seconds of audio measured so far
        self._level = 0  # 0 fine, 1 near the budget, 2 over it: what the performer was told last

    @property
    def agent_cost(self) -> float:
        """What one more agent will cost: the heaviest voice, as much slower as the engine runs
        live than when calibrated (never faster: a quiet moment is no promise)."""
        slowdown = self.engine / self.expected if self.expected - self.cost.empty >= EVIDENCE else 1.0
        return self.cost.heaviest * max(1.0, slowdown)

    def measure(self, seconds: float, duration: float, agents: Sequence[tuple[str, str]],
                engine_seconds: float = 0.0) -> str | None:
        """One chunk of `duration` s took `seconds` to render (`engine_seconds` of it in the engine)
        with these (agent, voice): a line for the performer when the load has crossed into a worse
        level (or back to fine), else None."""
        self.measured += duration
        # A running mean until TAU s of audio are in, so the first chunks count fully.
        weight = duration / min(self.tau, self.measured)
        self.load += weight * (seconds / duration - self.load)
        self.agents += weight * (len(agents) - self.agents)
        self.engine += weight * (engine_seconds / duration - self.engine)
        self.expected += weight * (self.cost.of(agents) - self.expected)
        self.rendering = tuple(agents)
        # The first chunks carry one-time costs (and are rendered ahead in a burst): judge from TAU s on.
        return self._verdict() if self.measured >= self.tau else None

    def _verdict(self) -> str | None:
        load, budget = self.load, self.budget
        # Over the budget as the performer reads it: in whole percents.
        level = 2 if round(100 * load) > round(100 * budget) else 1 if load > NEAR * budget else 0
        # Back down only well below a threshold, so a load hovering on one is told once.
        if level < self._level and load > (NEAR * budget if self._level == 2 else NEAR * budget * 0.9):
            level = self._level
        told, self._level = self._level, level
        what = f"rendering takes {load:.0%} of real time with {describe(self.rendering)}"
        if level > told:
            if level == 2:
                return (f"{what}, over the {budget:.0%} it can keep up with: expect dropouts; `kill` some "
                        "agents or give them a lighter voice (tri, square)")
            return f"{what}, near the {budget:.0%} it can keep up with; more agents will drop out"
        if level == 0 and told > 0:
            return f"{what}: room again"
        return None

    def room_for(self, agents: int) -> str | None:
        """None if `agents` agents in all can be rendered within the budget, else why not."""
        projected = self.load + self.agent_cost * (agents - self.agents)
        if projected <= self.budget + 1e-9:  # as many as `room` below says
            return None
        room = max(0, int(self.agents + (self.budget - self.load) / self.agent_cost + 1e-6))
        return (f"{agents} agents would take about {projected:.0%} of real time to render, over the "
                f"{self.budget:.0%} it can keep up with (room for {room} in all now, "
                f"{len(self.rendering)} playing)")

    def status(self) -> str:
        return f"rendering takes {self.load:.0%} of real time with {describe(self.rendering)}"


class UnderrunReport:
    """Underruns told as they happen: the first at once, then at most one line every `interval` s
    with those that came meanwhile."""

    def __init__(self, interval: float = UNDERRUN_INTERVAL) -> None:
        self.interval = interval
        self._told = (0, 0)  # (underruns, of which nothing was rendered) when last reported
        self._told_at = float("-inf")

    def check(self, underruns: int, starved: int, now: float, context: str) -> str | None:
        """`underruns` in all so far, `starved` of them ours (nothing was rendered in time)."""
        new, new_starved = underruns - self._told[0], starved - self._told[1]
        if new <= 0 or now - self._told_at < self.interval:
            return None
        self._told, self._told_at = (underruns, starved), now
        return (f"{new} underrun{'s' if new != 1 else ''} just now ({new_starved} with nothing rendered; "
                f"{underruns} in all); {context}")

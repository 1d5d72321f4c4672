"""What the performance looks like from outside: an immutable picture the session publishes.

Only the conductor's thread touches the chain. The REPL's toolbar, `status` and completion read
the latest snapshot, a frozen value swapped in whole, so they never see a chain mid-change.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AgentView:
    name: str
    copies: str  # an agent, or "seed"
    epsilon: float
    recent: tuple[float, ...]  # accuracy of its last heard attempts against its target, oldest first
    against_seed: float | None  # its last heard attempt's accuracy against the seed
    last_played: str | None  # its last heard attempt, written as a seed is (lengths too, with rhythm)
    muted: bool
    summary: str  # its main settings, as `set` writes them
    drift: float | None = None  # how far its last heard attempt has drifted from the seed, 0..1


@dataclass(frozen=True)
class Snapshot:
    phrase: int = 0  # the next phrase to be composed
    tempo: float = 120.0
    agents: tuple[AgentView, ...] = ()
    next_number: int = 0  # the number the next agent spawned will get
    pending: tuple[str, ...] = ()  # commands waiting for the next boundary, as typed
    seed: str = ""  # the melody a0 copies, as written

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(agent.name for agent in self.agents)

"""What one listening attempt costs next to a symbolic one: 16 steps, the ear's cache warm.

Times the chain's step() (play, reward, learn) for one agent on a 16-step melody over a two-octave
chromatic palette, and for 64 agents in a chain, with each reward in turn; the same run times
the first listening attempt with an empty cache (every note rendered), for scale. Each chain
is a Session's, so its listening agents hear through the session's ear, as in a performance.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from benchlib import median, print_table, ratio, verdict

from ensemble import commands as cmd
from ensemble.learning.chain import Chain
from ensemble.listening.ear import Ear
from ensemble.melody import Melody
from ensemble.session import Session

MELODY = Melody.parse("C4 D4 E4 F4 G4 A4 B4 C5 B4 G4 E4 C4 D4 F#4 A4 C#4")
TASK = {"palette": "chromatic:C4-B5", "rests": "on"}
LIMIT = 3.0


def chain_for(agents: int, reward: str, ear: Ear) -> Chain:
    session = Session(seed=1, ear=lambda: ear)
    session.apply(cmd.Seed(MELODY))
    session.apply(cmd.Spawn(agents))
    session.apply(cmd.Set("all", {**TASK, "reward": reward}))
    return session.chain


def per_call(action: Callable[[], object], repeats: int, rounds: int = 7) -> float:
    """Median over rounds of the mean seconds per call."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeats):
            action()
        times.append((time.perf_counter() - start) / repeats)
    return median(times)


def warm(chain: Chain) -> None:
    """Every note of the palette and of the melody heard once: the cache a performance builds."""
    for _ in range(200):
        chain.step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 200 if args.quick else 1000

    cold_ear = Ear()
    cold = chain_for(1, "listen", cold_ear)
    start = time.perf_counter()
    cold.step()
    cold_seconds, cold_renders = time.perf_counter() - start, cold_ear.renders

    ear = Ear()
    rows, ratios = [], []
    for agents in (1, 64):
        symbolic, listening = chain_for(agents, "exact", ear), chain_for(agents, "listen", ear)
        warm(listening)
        count = max(20, repeats // agents)
        exact_time = per_call(symbolic.step, count)
        listen_time = per_call(listening.step, count)
        ratios.append(listen_time / exact_time)
        label = f"{agents} agent{'s' * (agents > 1)}, per attempt"
        rows.append([label, f"{exact_time / agents * 1e6:.1f} us", f"{listen_time / agents * 1e6:.1f} us",
                     ratio(listen_time, exact_time)])
    rows.append(["1 agent, first attempt, cache empty", "", f"{cold_seconds * 1e3:.1f} ms",
                 f"({cold_renders} notes rendered)"])
    print(f"{len(MELODY)} steps, palette {TASK['palette']} with rests; Chain.step(), median of 7 rounds")
    print_table(["case", "symbolic (exact)", "listening", "listening/symbolic"], rows)
    verdict(f"one 16-step listening attempt <= {LIMIT:g}x a symbolic one, cache warm "
            f"(got {ratios[0]:.2f}x; 64 agents {ratios[1]:.2f}x)", ratios[0] <= LIMIT)


if __name__ == "__main__":
    main()

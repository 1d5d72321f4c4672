"""Environment steps per second: ensemble's Gymnasium environments vs RaveForce's, same renders.

copy melody: CopyMelody-v0 with the listening reward (saw against a square target, 0.25 s
  steps, random actions, reset after each 5-note attempt), against RaveForce-style steps that
  each render the chosen note for 0.25 s and compare it with the target note's waveform.
tune voice: TuneVoice-v0 (0.5 s of C3 through sawsynth and lpf, random attack, decay and
  cutoff), against RaveForce-style steps rendering the same program with the same parameters.
RaveForce's users run one step per episode (`total_step=1`), so the baseline resets each step.
Both run alternately, in rounds, and the medians are compared.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import gymnasium
import numpy as np
from benchlib import median, print_table, verdict
from raveforce_style import RaveForceStyleEnv

import ensemble.env  # noqa: F401 - registers the environments
from ensemble.env.tune_voice import parameters
from ensemble.glicol.notes import NoteRenderer
from ensemble.glicol.program import load_voices, pitch_ratio

LIMIT = 5.0
STEP = 0.25
VOICES = load_voices()


def steps_per_second(step: Callable[[], object], seconds: float) -> float:
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        step()
        count += 1
    return count / elapsed


def copy_melody_pair() -> tuple[Callable[[], object], Callable[[], object]]:
    env = gymnasium.make("CopyMelody-v0", reward="listen", voice="saw", target_voice="square",
                         step_seconds=STEP)
    env.reset(seed=0)
    env.action_space.seed(0)

    def ours() -> None:
        if env.step(env.action_space.sample())[2]:
            env.reset()

    notes = env.unwrapped.actions
    target = NoteRenderer(VOICES).render("square", 64, STEP)
    template = "n{}: seq {} >> " + VOICES["saw"].nodes(STEP) + " >> mul {}"
    baseline = RaveForceStyleEnv(template, target, STEP)
    rng = np.random.default_rng(0)
    counter = iter(range(10**9))

    def theirs() -> None:
        note = int(rng.choice(notes))
        baseline.reset()
        baseline.step([next(counter), note, 0.5 / pitch_ratio(note)])

    return ours, theirs


def tune_voice_pair() -> tuple[Callable[[], object], Callable[[], object]]:
    env = gymnasium.make("TuneVoice-v0")
    env.reset(seed=0)
    env.action_space.seed(1)

    def ours() -> None:
        if any(env.step(env.action_space.sample())[2:4]):
            env.reset()

    target = NoteRenderer(VOICES).render("saw", 48, 0.5, 1500.0, 0.01, 0.3)
    template = "n{}: seq 48 >> sawsynth {} {} >> lpf {} 1.0 >> mul {}"
    baseline = RaveForceStyleEnv(template, target, 0.5)
    rng = np.random.default_rng(1)
    counter = iter(range(10**9))

    def theirs() -> None:
        settings = parameters(rng.random(3))
        baseline.reset()
        baseline.step([next(counter), round(settings["attack"], 4), round(settings["decay"], 4),
                       f"{settings['cutoff']:.1f}", 0.5 / pitch_ratio(48)])

    return ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter rounds")
    args = parser.parse_args()
    seconds, rounds = (0.5, 3) if args.quick else (2.0, 5)

    rows, ratios = [], {}
    for label, make in [("copy melody (listening)", copy_melody_pair), ("tune voice", tune_voice_pair)]:
        ours, theirs = make()
        ours(), theirs()  # warm: the ear's cache, first allocations
        our_rates, their_rates = [], []
        for _ in range(rounds):
            our_rates.append(steps_per_second(ours, seconds))
            their_rates.append(steps_per_second(theirs, seconds))
        ours_median, theirs_median = median(our_rates), median(their_rates)
        ratios[label] = ours_median / theirs_median
        rows.append([label, f"{ours_median:,.0f}", f"{theirs_median:,.1f}", f"{ratios[label]:.1f}x"])
    print(f"steps per second, median of {rounds} alternating rounds of {seconds:g} s")
    print_table(["task", "ensemble", "RaveForce-style", "ensemble/RaveForce"], rows)
    verdict(", ".join(f"{label} >= {LIMIT:g}x (got {value:.1f}x)" for label, value in ratios.items()),
            all(value >= LIMIT for value in ratios.values()))


if __name__ == "__main__":
    main()

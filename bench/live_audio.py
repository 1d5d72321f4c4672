"""Live audio: the Glicol callback's time as a share of its budget, with 8 and with 64 agents.

ours: GlicolAudioOutput on a JACK dummy server (44.1 kHz, period 256: a 5.8 ms budget per
      callback), fed by a Runner with RealtimeClock playing an N-agent script (tempo 140,
      16 steps of 0.25 beat). The output times both of its threads: the sound card's callback
      (which only hands over a chunk rendered ahead) and the render thread (the engine, the
      sequencer landing programs, the limiter), per callback's worth of audio.
bare: a GlicolEngine with the same N saw chains rendering 2 x 128 frames per call in a plain
      loop after the live runs: no callback, sequencer, limiter or conductor beside it.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
from benchlib import logged, print_table, ratio, verdict

from ensemble.clock import RealtimeClock
from ensemble.glicol.engine import BLOCK, GlicolEngine
from ensemble.glicol.program import load_voices
from ensemble.glicol.soundcard import FRAMES, GlicolAudioOutput
from ensemble.melody import Melody
from ensemble.performance.runner import Runner
from ensemble.performance.script import parse_script
from ensemble.performance.sources import script_source
from ensemble.realtime import prepare_interpreter

# tests/support/services.py starts and cleans up a real jackd (dummy driver, no mocks); the bench
# reuses it instead of repeating that logic.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.services import Jack

TEMPO, STEP = 140.0, 0.25
MELODY = Melody.parse("C4 D4 E4 G4 A4 G4 E4 D4 C4 E4 G4 C5 B4 G4 E4 D4")
PHRASE_SECONDS = len(MELODY) * STEP * 60.0 / TEMPO
AGENT_COUNTS = (8, 64)
TARGET_SHARE = 0.5  # of the budget, worst callback, at 64 agents
BARE_WARMUP = 20  # untimed calls first: the first one parses the program


def script_text(agents: int, phrases: int) -> str:
    return "\n".join([f"tempo {TEMPO:g}", f"step {STEP:g}", f"seed {MELODY}", f"spawn {agents}",
                      f"wait {phrases}"])


def perform(agents: int, seconds: float, messages: list[str]) -> GlicolAudioOutput:
    phrases = math.ceil(seconds / PHRASE_SECONDS)
    output = GlicolAudioOutput()
    source = script_source(parse_script(script_text(agents, phrases), "bench"), 0, "bench")
    with logged(messages):
        Runner(source, [output], RealtimeClock()).run()
    return output


def bare_durations(agents: int, calls: int, messages: list[str]) -> list[float]:
    engine = GlicolEngine(on_message=messages.append)
    engine.set_bpm(TEMPO)  # Glicol's bar is 4 beats: one 16 x 0.25-beat phrase, as live
    nodes = load_voices()["saw"].nodes(STEP * 60.0 / TEMPO)
    notes = " ".join(str(note) for note in MELODY.notes)
    engine.update("\n".join(f"a{k}: seq {notes} >> {nodes} >> mul 0.05" for k in range(agents)))
    out = np.zeros((FRAMES // BLOCK, 2, BLOCK), np.float32)
    for _ in range(BARE_WARMUP):
        engine.render_into(out)
    durations = []
    for _ in range(calls):
        started = time.perf_counter()
        engine.render_into(out)
        durations.append(time.perf_counter() - started)
    return durations


def ms(seconds: float, budget: float) -> str:
    return f"{1000 * seconds:.2f} ({100 * seconds / budget:.0f}%)"


def spread(durations: np.ndarray, budget: float) -> list[str]:
    """p50, p99 and worst."""
    return [ms(float(np.percentile(durations, q)), budget) for q in (50, 99, 100)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each live run (default 15)")
    parser.add_argument("--quick", action="store_true", help="5 s runs")
    args = parser.parse_args()
    seconds = 5.0 if args.quick else args.seconds

    prepare_interpreter()  # as the CLI does before a live performance (outputs no longer do)
    messages: list[str] = []
    outputs: dict[int, GlicolAudioOutput] = {}
    jack = Jack(rate=44100, period=256)
    # PortAudio finds JACK through JACK_DEFAULT_SERVER when sounddevice is first imported,
    # which GlicolAudioOutput.open does: the environment must be in place before that.
    os.environ.update(jack.env)
    with jack:
        for agents in AGENT_COUNTS:
            print(f"playing {agents} agents for {seconds:g} s", flush=True)
            outputs[agents] = perform(agents, seconds, messages)
        # PortAudio's JACK client must go while jackd is still up: sounddevice would otherwise
        # terminate it at exit and abort on an assertion in pa_jack.c.
        sounddevice = sys.modules.get("sounddevice")
        if sounddevice is not None:
            sounddevice._terminate()
    bare = {agents: bare_durations(agents, max(2000, outputs[agents].stats.callbacks), messages)
            for agents in AGENT_COUNTS}
    for message in messages:
        print(message)

    budget = outputs[AGENT_COUNTS[0]].stats.budget
    print(f"\ntempo {TEMPO:g}, {len(MELODY)} steps of {STEP:g} beat; callback of {FRAMES} frames: "
          f"budget {1000 * budget:.2f} ms; times in ms (share of the budget)")
    rows = []
    for agents, output in outputs.items():
        stats = output.stats
        callbacks, renders = np.array(stats.callback_times), np.array(stats.render_times)
        bare_p50 = float(np.median(bare[agents]))
        rows.append([f"{agents}: sound card callback", str(stats.callbacks),
                     str(stats.underflows + stats.starved), *spread(callbacks, budget), "", ""])
        rows.append([f"{agents}: render thread, per callback", str(len(renders)), "",
                     *spread(renders, budget), ms(bare_p50, budget),
                     ratio(float(np.median(renders)), bare_p50)])
    print_table(["agents: where", "count", "underruns", "p50", "p99", "worst", "bare engine p50",
                 "render/bare p50"], rows)

    worst = outputs[64].stats.worst_callback / budget
    underruns = sum(o.stats.underflows + o.stats.starved for o in outputs.values())
    verdict(f"worst callback <= {100 * TARGET_SHARE:.0f}% of the budget at 64 agents "
            f"(got {100 * worst:.0f}%), no underruns (got {underruns})",
            worst <= TARGET_SHARE and underruns == 0)


if __name__ == "__main__":
    main()

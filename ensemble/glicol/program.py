"""Glicol programs for a phrase: one chain per agent, voices from templates in patches/."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ensemble.errors import UserError
from ensemble.glicol.lanes import Cell
from ensemble.melody import REST
from ensemble.resources import bundled

# Only nodes that the tests render are ever generated (others can trap the engine).
TESTED_NODES = frozenset({"seq", "sawsynth", "squsynth", "trisynth", "lpf", "mul"})
ATTACK_SECONDS = 0.005
_GAIN_RE = re.compile(r"^#\s*gain:\s*([0-9.]+)\s*$")


@dataclass(frozen=True)
class Voice:
    name: str
    template: str  # the nodes between `seq` and the level, with {attack} and {decay}
    gain: float = 1.0

    def nodes(self, step_seconds: float, cutoff: float = 2400.0, attack: float = ATTACK_SECONDS,
              decay: float | None = None) -> str:
        """The voice's nodes; the decay follows the step length unless given."""
        decay = max(0.01, round(step_seconds * 0.9, 4)) if decay is None else round(decay, 4)
        return self.template.format(attack=round(attack, 4), decay=decay, cutoff=f"{cutoff:.1f}")


def parse_voice(name: str, text: str) -> Voice:
    gain, template = 1.0, ""
    for line in text.splitlines():
        stripped = line.strip()
        if match := _GAIN_RE.match(stripped):
            gain = float(match.group(1))
        elif stripped and not stripped.startswith("#"):
            template = stripped
    if not template:
        raise UserError(f"voice '{name}' has no nodes")
    for node in template.split(">>"):
        word = node.split()[0] if node.split() else ""
        if word not in TESTED_NODES:
            raise UserError(f"voice '{name}' uses node '{word}', which ensemble does not generate "
                            f"(tested nodes: {', '.join(sorted(TESTED_NODES - {'seq'}))})")
    voice = Voice(name, template, gain)
    try:
        voice.nodes(0.25)
    except (KeyError, IndexError, ValueError):
        raise UserError(f"voice '{name}' may only use the placeholders "
                        "{attack}, {decay} and {cutoff}") from None
    return voice


def load_voices(directory: Path | None = None) -> dict[str, Voice]:
    """Voice templates `*.glicol` from `directory`, by default the installed patches."""
    folder = directory or bundled("patches") / "glicol"
    return {path.stem: parse_voice(path.stem, path.read_text(encoding="utf-8"))
            for path in sorted(folder.glob("*.glicol"))}


def pitch_ratio(note: int) -> float:
    """What Glicol's synths multiply their output by (their loudness grows with pitch)."""
    return 2.0 ** ((note - 60) / 12.0)


# A new synth node always sounds at its first sample. Where a new chain starts on a rest,
# that blip is given this note instead: 8.7 Hz and 30 dB down, below hearing at a step's decay.
_INAUDIBLE_NOTE = 1
# The engine takes negative notes too: this one is 0.025 Hz and 80 dB down, so even a decay of
# 14 s (a lane of 16 beats) holds no turn of its waveform: silent. Step chains keep the one above
# (their renders stay byte-identical).
FAINTEST_NOTE = -100


def chain(name: str, notes: Iterable[int | Cell], voice: Voice, step_seconds: float, level: float,
          cutoff: float = 2400.0, new: bool = False, attack: float = ATTACK_SECONDS,
          decay: float | None = None, loudest: int | None = None, inaudible: int = _INAUDIBLE_NOTE) -> str:
    """One chain line. The level is divided by the loudest note's ratio so none peaks above it.

    `notes`: a note or REST per step, or a Cell for a step split evenly (see lanes.py).
    `new`: the chain is being created, so a rest on its first step must be made inaudible (by
    playing the `inaudible` note there).
    `attack`, `decay`: the envelope, in seconds, when not the one the step length implies.
    `loudest`: the note that sets the level, when not this chain's loudest (an agent's chains
    share one level).
    """
    steps = [step if isinstance(step, tuple) else (step,) for step in notes]
    sounding = [pitch_ratio(n) for step in steps for n in step if n != REST]
    if new and steps[0][0] == REST:
        steps[0] = _inaudible_first(steps[0], inaudible)
    tokens = ["".join("_" if note == REST else str(note) for note in step) for step in steps]
    scale = pitch_ratio(loudest) if loudest is not None else max(sounding, default=1.0)
    gain = level * voice.gain / scale
    nodes = voice.nodes(step_seconds, cutoff, attack, decay)
    return f"{name}: seq {' '.join(tokens)} >> {nodes} >> mul {gain:.6f}"


def _inaudible_first(step: Cell, inaudible: int) -> Cell:
    """The step with the `inaudible` note first. Numbers side by side would read as one (`160`), so
    a split step whose note comes second is split twice as finely, a rest between them."""
    if len(step) > 1 and step[1] != REST:
        step = tuple(part for note in step for part in (note, REST))
    return (inaudible, *step[1:])

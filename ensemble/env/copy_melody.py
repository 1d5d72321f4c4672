"""CopyMelody-v0: one episode is one attempt at a melody, one step one note.

The task of the original notebook by default: copy C4 E4 G4 E4 C4 from the twelve chromatic
notes C4-B4. Observation: the position in the melody (its length once the attempt is over).
Action: the index of a note in the palette. Reward: the step's reward in [-1, 1], the same
function the ensemble's agents learn from, symbolic or by listening.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from ensemble.errors import UserError
from ensemble.learning.rewards import REWARD_CODES, rewards
from ensemble.learning.settings import LEARNING
from ensemble.listening.ear import Ear, Timbre
from ensemble.melody import REST, Melody, Palette, melody_text
from ensemble.values import parse_value
from ensemble.voicing import VOICING

NOTEBOOK_MELODY = "C4 E4 G4 E4 C4"
NOTEBOOK_PALETTE = "chromatic:C4-B4"


class CopyMelodyEnv(gymnasium.Env[int, int]):
    metadata = {"render_modes": ["ansi"], "render_fps": 4}  # noqa: RUF012 - Gymnasium's convention

    def __init__(self, melody: str | Sequence[int] = NOTEBOOK_MELODY, palette: str = NOTEBOOK_PALETTE,
                 rests: bool = False, reward: str = "exact", voice: str = "saw",
                 target_voice: str = "saw", cutoff: float = 2400.0, step_seconds: float = 0.25,
                 render_mode: str | None = None, ear: Ear | None = None) -> None:
        self.melody = _melody(melody)
        palette_value: Palette = _checked("palette", palette)
        self.actions = np.array(replace(palette_value, with_rest=rests).notes)
        self.reward_kind: str = _checked("reward", reward)
        cutoff = _checked("cutoff", cutoff)
        if not 0.02 <= step_seconds <= 4.0:
            raise ValueError(f"step_seconds={step_seconds}: allowed 0.02 to 4 (seconds a note lasts)")
        self.timbre = Timbre(_checked("voice", voice), cutoff, float(step_seconds))
        self.target_timbre = Timbre(_checked("voice", target_voice), cutoff, float(step_seconds))
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(f"render_mode {render_mode!r}: choose from {self.metadata['render_modes']}")
        self.render_mode = render_mode
        if ear is None and self.reward_kind == "listen":
            ear = Ear()  # the Glicol engine renders what a listening reward compares
        self.ear = ear
        # Gymnasium types Discrete by numpy's integer, its Env by the plain int it also accepts.
        self.action_space = spaces.Discrete(len(self.actions))  # type: ignore[assignment]
        self.observation_space = spaces.Discrete(len(self.melody) + 1)  # type: ignore[assignment]
        self._position = 0
        self._played: list[int] = []

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        """Start an attempt. options: `melody` (same length) and `target_voice`."""
        super().reset(seed=seed)
        options = options or {}
        if "melody" in options:
            melody = _melody(options["melody"])
            if len(melody) != len(self.melody):
                raise ValueError(f"the melody must keep its {len(self.melody)} steps "
                                 "(make a new environment for another length)")
            self.melody = melody
        if "target_voice" in options:
            voice = _checked("voice", options["target_voice"])
            self.target_timbre = Timbre(voice, self.target_timbre.cutoff, self.target_timbre.step_seconds)
        self._position, self._played = 0, []
        return 0, {"target": self.melody.notes[0]}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict[str, Any]]:
        if not self.action_space.contains(action):
            raise ValueError(f"action {action!r} is not in {self.action_space}")
        if self._position >= len(self.melody):
            raise RuntimeError("the attempt is over: call reset()")
        note = int(self.actions[int(action)])
        target = self.melody.notes[self._position]
        reward = float(self._reward(note, target))
        self._played.append(note)
        self._position += 1
        terminated = self._position == len(self.melody)
        info: dict[str, Any] = {"note": note, "target": target}
        if terminated:
            info["attempt"] = tuple(self._played)
        return self._position, reward, terminated, False, info

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        played = melody_text(self._played) if self._played else "-"
        return f"target: {melody_text(self.melody.notes)}\nplayed: {played}"

    def _reward(self, note: int, target: int) -> float:
        played, wanted = np.array([[note]]), np.array([[target]])
        if self.reward_kind == "listen" and self.ear is not None:  # __init__ makes one for `listen`
            return self.ear.rewards(played, self.timbre, wanted, self.target_timbre)[0, 0]
        return rewards(np.array([REWARD_CODES[self.reward_kind]]), played, wanted)[0, 0]


def _melody(melody: str | Sequence[int]) -> Melody:
    """Note names (`C4 E4 _`) or MIDI numbers (REST = -1)."""
    try:
        parsed = Melody.parse(melody) if isinstance(melody, str) else Melody(tuple(int(n) for n in melody))
    except UserError as error:
        raise ValueError(f"melody: {error}") from None
    if any(not 0 <= note <= 127 and note != REST for note in parsed.notes):
        raise ValueError(f"melody: notes must be MIDI 0-127 or {REST} for a rest")
    return parsed


def _checked(key: str, text: Any) -> Any:
    """A value as `set` would take it, or ValueError with the same one-line explanation."""
    try:
        return parse_value({**LEARNING, **VOICING}, key, str(text))
    except UserError as error:
        raise ValueError(str(error)) from None


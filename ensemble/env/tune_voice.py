"""TuneVoice-v0, RaveForce's task: set a voice's attack, decay and cutoff to match a sound.

Each step renders one note with the parameters the action asks for, on the embedded Glicol
engine, and compares its spectrogram with the target's. Action: three numbers in [0, 1],
mapped exponentially onto the parameter ranges (as one hears them: doubling a time or a
frequency is one step). Observation: the attempt's and the target's spectrograms, levels
scaled from -100..0 dB to 0..1. Reward: minus the log-spectral distance in dB; the episode
ends when that is within `tolerance_db` (or, registered, after 50 attempts).
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from ensemble.glicol.notes import NoteRenderer
from ensemble.glicol.program import load_voices
from ensemble.listening.features import N_BANDS, log_spectral_distance, spectrogram

PARAMETERS = ("attack", "decay", "cutoff")
RANGES = {"attack": (0.001, 0.2), "decay": (0.02, 1.0), "cutoff": (200.0, 8000.0)}  # s, s, Hz
FRAME = 1024
_FLOOR_DB = 100.0


def parameters(action: np.ndarray) -> dict[str, float]:
    """Action in [0, 1]^3 -> attack (s), decay (s), cutoff (Hz)."""
    values = np.clip(np.asarray(action, dtype=np.float64), 0.0, 1.0)
    return {name: float(low * (high / low) ** value)
            for (name, (low, high)), value in zip(RANGES.items(), values, strict=True)}


def action_for(settings: dict[str, float]) -> np.ndarray:
    """The action that asks for `settings` (the inverse of `parameters`)."""
    return np.array([np.log(settings[name] / low) / np.log(high / low)
                     for name, (low, high) in RANGES.items()], dtype=np.float32)


class TuneVoiceEnv(gymnasium.Env[np.ndarray, np.ndarray]):
    metadata = {"render_modes": []}  # noqa: RUF012 - Gymnasium's own convention

    def __init__(self, note: int = 48, seconds: float = 0.5, voice: str = "saw",
                 target: dict[str, float] | None = None, tolerance_db: float = 0.5,
                 render_mode: str | None = None, renderer: NoteRenderer | None = None) -> None:
        self.renderer = renderer or NoteRenderer(load_voices())
        if voice not in self.renderer.voices:
            raise ValueError(f"voice {voice!r}: choose from {', '.join(self.renderer.voices)}")
        if not 0 <= note <= 127:
            raise ValueError(f"note {note}: a MIDI note from 0 to 127")
        if not 0.05 <= seconds <= 4.0:
            raise ValueError(f"seconds={seconds}: allowed 0.05 to 4 (how long the note is rendered)")
        if render_mode is not None:
            raise ValueError("TuneVoice has no render modes")
        self.note, self.seconds, self.voice = int(note), float(seconds), voice
        self.tolerance_db = tolerance_db
        self.fixed_target = _checked_target(target) if target is not None else None
        self.frames = max(1, round(seconds * 44100) // FRAME)
        self.action_space = spaces.Box(0.0, 1.0, shape=(len(PARAMETERS),), dtype=np.float32)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(2, self.frames, N_BANDS), dtype=np.float32)
        self.target: dict[str, float] = {}
        self._target_levels = np.zeros((self.frames, N_BANDS))

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """A new target: options["target"], else the one given at construction, else drawn."""
        super().reset(seed=seed)
        options = options or {}
        if "target" in options:
            self.target = _checked_target(options["target"])
        elif self.fixed_target is not None:
            self.target = self.fixed_target
        else:
            self.target = parameters(self.np_random.random(len(PARAMETERS)))
        self._target_levels = self._levels(self.target)
        silence = np.full_like(self._target_levels, -_FLOOR_DB)
        return self._observation(silence), {"target": dict(self.target)}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if not self.target:
            raise RuntimeError("call reset() first")
        settings = parameters(action)
        levels = self._levels(settings)
        distance = log_spectral_distance(levels, self._target_levels)
        info = {"distance_db": distance, **settings}
        return self._observation(levels), -distance, distance <= self.tolerance_db, False, info

    def _levels(self, settings: dict[str, float]) -> np.ndarray:
        audio = self.renderer.render(self.voice, self.note, self.seconds, settings["cutoff"],
                                     settings["attack"], settings["decay"])
        return spectrogram(audio, FRAME)[: self.frames]

    def _observation(self, levels: np.ndarray) -> np.ndarray:
        both = np.stack([levels, self._target_levels])
        return np.clip((both + _FLOOR_DB) / _FLOOR_DB, 0.0, 1.0).astype(np.float32)


def _checked_target(target: dict[str, float]) -> dict[str, float]:
    checked = {}
    for name, (low, high) in RANGES.items():
        if name not in target:
            raise ValueError(f"target needs {', '.join(PARAMETERS)} (missing {name})")
        value = float(target[name])
        if not low <= value <= high:
            raise ValueError(f"target {name}={value}: allowed {low} to {high}")
        checked[name] = value
    return checked

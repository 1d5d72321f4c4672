"""Gymnasium environments (optional extra: pip install 'ensemble[gym]').

Importing this module registers:
- `CopyMelody-v0`: play a target melody note by note; rewarded symbolically or by listening.
  With `rhythm=` (or a melody with lengths) each step is a note and a length.
- `TuneVoice-v0`: set a Glicol voice's attack, decay and cutoff to match a target sound.
"""

from __future__ import annotations

try:
    import gymnasium
except ImportError as error:  # pragma: no cover - depends on the installation
    raise ImportError("ensemble.env needs Gymnasium: pip install 'ensemble[gym]'") from error

from ensemble.env.copy_melody import CopyMelodyEnv
from ensemble.env.tune_voice import TuneVoiceEnv

__all__ = ["CopyMelodyEnv", "TuneVoiceEnv"]

if "CopyMelody-v0" not in gymnasium.registry:
    gymnasium.register("CopyMelody-v0", entry_point="ensemble.env.copy_melody:CopyMelodyEnv")
if "TuneVoice-v0" not in gymnasium.registry:
    gymnasium.register("TuneVoice-v0", entry_point="ensemble.env.tune_voice:TuneVoiceEnv",
                       max_episode_steps=50)

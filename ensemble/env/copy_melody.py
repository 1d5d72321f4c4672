"""CopyMelody-v0: one episode is one attempt at a melody, one step one note.

The task of the original notebook by default: copy C4 E4 G4 E4 C4 from the twelve chromatic
notes C4-B4. Observation: the position in the melody (its length once the attempt is over).
Action: the index of a note in the palette. Reward: the step's reward in [-1, 1], the same
function the ensemble's agents learn from, symbolic or by listening.

With a rhythm (`rhythm="0.5,1,2"`, or a melody with lengths such as `C4:1 E4:0.5`) each step is
a note and a length. The action stays one Discrete index, over (note, length) pairs, note by note
with every length: the joint actions the ensemble's own agents learn with (chosen over factored
ones by bench/rhythm_efficiency.py), and the space tabular learners and DQN take. The
observation becomes (position, onset in ticks): the graded rewards score a step's onset, which
the lengths played before it set, so the position alone would no longer be a Markov state. The
target's lengths stay hidden, as its notes are (both are in `info`). Rewards: `exact` and
`pitchclass` want the length right too; `near` and `listen` also grade onset and length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from ensemble.errors import UserError
from ensemble.learning.rewards import REWARD_CODES, is_graded, joint, rewards
from ensemble.learning.settings import LEARNING
from ensemble.listening.ear import Ear, Timbre
from ensemble.melody import REST, Melody, Palette, melody_text, note_name
from ensemble.rhythm import TICKS_PER_BEAT, Rhythm, length_text
from ensemble.values import parse_value
from ensemble.voicing import VOICING

NOTEBOOK_MELODY = "C4 E4 G4 E4 C4"
NOTEBOOK_PALETTE = "chromatic:C4-B4"
# With rhythm, a note written without a length lasts the ensemble's default step: half a beat.
STEP_TICKS = TICKS_PER_BEAT // 2

Observation = int | np.ndarray  # the position; with rhythm, [position, onset in ticks]


class CopyMelodyEnv(gymnasium.Env[Observation, int]):
    metadata = {"render_modes": ["ansi"], "render_fps": 4}  # noqa: RUF012 - Gymnasium's convention

    def __init__(self, melody: str | Sequence[int] = NOTEBOOK_MELODY, palette: str = NOTEBOOK_PALETTE,
                 rests: bool = False, reward: str = "exact", voice: str = "saw",
                 target_voice: str = "saw", cutoff: float = 2400.0, step_seconds: float = 0.25,
                 render_mode: str | None = None, ear: Ear | None = None,
                 rhythm: str | Sequence[float] | None = None) -> None:
        """`rhythm`: the lengths in beats an agent may play (`"0.5,1,2"` or `(0.5, 1, 2)`); by
        default none, every note a step, unless the melody has lengths: then its own."""
        self.melody = melody_of(melody)
        self.actions, self.lengths = moves_of(palette, rests, rhythm, self.melody)
        self.reward_kind: str = checked_option("reward", reward)
        cutoff = checked_option("cutoff", cutoff)
        check_step_seconds(step_seconds)
        self.timbre = Timbre(checked_option("voice", voice), cutoff, float(step_seconds))
        self.target_timbre = Timbre(checked_option("voice", target_voice), cutoff, float(step_seconds))
        self.render_mode = checked_render_mode(render_mode, self.metadata["render_modes"])
        self.ear = ear_for(self.reward_kind, ear)
        # Gymnasium types Discrete by numpy's integer, its Env by the plain int it also accepts.
        self.action_space = spaces.Discrete(len(self.actions))  # type: ignore[assignment]
        if self.lengths is None:
            self.observation_space = spaces.Discrete(len(self.melody) + 1)  # type: ignore[assignment]
        else:  # an attempt cannot start a note later than all its steps at the longest length
            latest = len(self.melody) * int(self.lengths.max())
            self.observation_space = spaces.MultiDiscrete([len(self.melody) + 1, latest + 1])
        self._position = 0
        self._played: list[int] = []
        self._played_lengths: list[int] = []

    @property
    def target_lengths(self) -> tuple[int, ...] | None:
        """The target's lengths in ticks, with rhythm (a note of one step lasting STEP_TICKS)."""
        return None if self.lengths is None else self.melody.ticks(STEP_TICKS)

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[Observation, dict[str, Any]]:
        """Start an attempt. options: `melody` (same number of steps) and `target_voice`."""
        super().reset(seed=seed)
        options = options or {}
        if "melody" in options:
            melody = melody_of(options["melody"])
            if len(melody) != len(self.melody):
                raise ValueError(f"the melody must keep its {len(self.melody)} steps "
                                 "(make a new environment for another length)")
            if melody.rhythmic and self.lengths is None:
                raise ValueError("the melody has lengths: make a new environment with a rhythm to play them")
            self.melody = melody
        if "target_voice" in options:
            voice = checked_option("voice", options["target_voice"])
            self.target_timbre = Timbre(voice, self.target_timbre.cutoff, self.target_timbre.step_seconds)
        self._position, self._played, self._played_lengths = 0, [], []
        return self._observation(), self._wanted(0)

    def step(self, action: int) -> tuple[Observation, float, bool, bool, dict[str, Any]]:
        if not self.action_space.contains(action):
            raise ValueError(f"action {action!r} is not in {self.action_space}")
        if self._position >= len(self.melody):
            raise RuntimeError("the attempt is over: call reset()")
        info = {"note": int(self.actions[int(action)]), **self._wanted(self._position)}
        self._played.append(info["note"])
        if self.lengths is not None:
            info["length"] = int(self.lengths[int(action)])
            self._played_lengths.append(info["length"])
        reward = self._reward()
        self._position += 1
        terminated = self._position == len(self.melody)
        if terminated:
            info["attempt"] = tuple(self._played)
            if self.lengths is not None:
                info["lengths"] = tuple(self._played_lengths)
        return self._observation(), reward, terminated, False, info

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        wanted = self.target_lengths
        if wanted is None:
            played = melody_text(self._played) if self._played else "-"
            return f"target: {melody_text(self.melody.notes)}\nplayed: {played}"
        played = timed_text(self._played, self._played_lengths) if self._played else "-"
        return f"target: {timed_text(self.melody.notes, wanted)}\nplayed: {played}"

    def _observation(self) -> Observation:
        if self.lengths is None:
            return self._position
        return np.array([self._position, sum(self._played_lengths)], dtype=np.int64)

    def _wanted(self, position: int) -> dict[str, Any]:
        """What the step at `position` should play, for `info`."""
        wanted = self.target_lengths
        target = {"target": self.melody.notes[position]}
        return target if wanted is None else {**target, "target_length": wanted[position]}

    def _reward(self) -> float:
        """The last step's reward, from the function the ensemble's agents learn by. With rhythm
        it is computed over the attempt so far: a step's onset is set by the steps before it."""
        wanted = self.target_lengths
        first = len(self._played) - 1 if wanted is None else 0
        played = np.array([self._played[first:]])
        target = np.array([self.melody.notes[first:len(self._played)]])
        timing = None if wanted is None else (np.array([self._played_lengths]),
                                              np.array([wanted[:len(self._played)]]))
        codes = np.array([REWARD_CODES[self.reward_kind]])
        if self.reward_kind != "listen":
            return float(rewards(codes, played, target, timing=timing)[0, -1])
        pitch = rewards(codes, played, target, listen=self._listen)
        if timing is None or self.ear is None:  # (__init__ makes an ear for `listen`)
            return float(pitch[0, -1])
        tick_seconds = self.timbre.step_seconds / STEP_TICKS  # a step is STEP_TICKS long
        heard = self.ear.timing(self.timbre, self.target_timbre, tick_seconds, played, timing[0], target,
                                timing[1])
        return float(joint(pitch, heard, is_graded(codes))[0, -1])  # timing heard, as the agents hear it

    def _listen(self, rows: np.ndarray, played: np.ndarray, target: np.ndarray) -> np.ndarray:
        assert self.ear is not None  # __init__ makes one for `listen`
        return self.ear.rewards(played, self.timbre, target, self.target_timbre)


def moves_of(palette: str, rests: bool, rhythm: str | Sequence[float] | None,
             melody: Melody) -> tuple[np.ndarray, np.ndarray | None]:
    """The note and (with rhythm) the length in ticks of each action: note by note, each with
    every length, in the order of the agents' moves (LearningSettings.moves)."""
    palette_value: Palette = checked_option("palette", palette)
    notes = np.array(replace(palette_value, with_rest=rests).notes)
    choices = rhythm_of(rhythm, melody)
    if melody.rhythmic and not choices:
        raise ValueError("rhythm=step: the melody has lengths; give the lengths to play them with")
    if not choices:
        return notes, None
    return np.repeat(notes, len(choices)), np.tile(np.array(choices), len(notes))


def checked_render_mode(render_mode: str | None, modes: Sequence[str]) -> str | None:
    if render_mode not in (None, *modes):
        raise ValueError(f"render_mode {render_mode!r}: choose from {list(modes)}")
    return render_mode


def ear_for(reward_kind: str, ear: Ear | None) -> Ear | None:
    """The ear a listening reward needs: the one given, or a new one (the Glicol engine renders
    what it compares); none for a symbolic reward."""
    if ear is None and reward_kind == "listen":
        return Ear()
    return ear


def check_step_seconds(step_seconds: float) -> None:
    if not 0.02 <= step_seconds <= 4.0:
        raise ValueError(f"step_seconds={step_seconds}: allowed 0.02 to 4 (seconds a note lasts)")


def melody_of(melody: str | Sequence[int]) -> Melody:
    """Note names (`C4 E4 _`) or MIDI numbers (REST = -1)."""
    try:
        parsed = Melody.parse(melody) if isinstance(melody, str) else Melody(tuple(int(n) for n in melody))
    except UserError as error:
        raise ValueError(f"melody: {error}") from None
    if any(not 0 <= note <= 127 and note != REST for note in parsed.notes):
        raise ValueError(f"melody: notes must be MIDI 0-127 or {REST} for a rest")
    return parsed


def rhythm_of(rhythm: str | Sequence[float] | None, melody: Melody) -> tuple[int, ...]:
    """The lengths in ticks an agent may play; () when every note lasts a step."""
    if rhythm is None:
        return tuple(sorted(set(melody.ticks(STEP_TICKS)))) if melody.rhythmic else ()
    text = rhythm if isinstance(rhythm, str) else ",".join(str(beats) for beats in rhythm)
    parsed: Rhythm = checked_option("rhythm", text)
    return parsed.lengths


def timed_text(notes: Sequence[int], lengths: Sequence[int]) -> str:
    """`C4:1 E4:0.5`: every note with its length."""
    return " ".join(f"{note_name(int(note))}:{length_text(int(length))}"
                    for note, length in zip(notes, lengths, strict=True))


def checked_option(key: str, text: Any) -> Any:
    """A value as `set` would take it, or ValueError with the same one-line explanation."""
    try:
        return parse_value({**LEARNING, **VOICING}, key, str(text))
    except UserError as error:
        raise ValueError(str(error)) from None


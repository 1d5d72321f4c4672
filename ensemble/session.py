"""The running performance: the one place where commands are applied, on phrase boundaries.

Commands may be submitted from any thread at any time; they wait in a queue and are applied,
in order, when the next phrase begins, so nothing ever changes mid-note.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ensemble import commands as cmd
from ensemble.errors import UserError
from ensemble.events import Part, Phrase
from ensemble.learning.chain import Attempt, Ensemble
from ensemble.melody import Melody
from ensemble.tempo import TempoMap

DEFAULT_SEED_MELODY = Melody.parse("C4 E4 G4 E4 C4")
DEFAULT_TEMPO = 120.0
DEFAULT_STEP = 0.5


@dataclass
class History:
    """Every attempt made so far, phrase by phrase, for reports and plots."""

    attempts: list[list[Attempt]] = field(default_factory=list)
    practice: int = 0  # silent attempts made with `train`, outside the phrases

    def recent(self, agent: str, count: int) -> list[Attempt]:
        """The agent's last `count` heard attempts, looking only as far back as needed."""
        found: list[Attempt] = []
        for phrase in reversed(self.attempts):
            found += [a for a in phrase if a.agent == agent and a.heard]
            if len(found) >= count:
                break
        return found[:count][::-1]


def checksum(attempts: list[Attempt]) -> str:
    """What a phrase's attempts were, in 12 hex digits: a replay compares its own with these."""
    text = ";".join(f"{a.agent}:{int(a.heard)}:{','.join(map(str, a.played))}" for a in attempts)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class Session:
    def __init__(self, seed: int = 0, on_message: Callable[[str], None] = print) -> None:
        self.seed = seed
        self.initial_tempo, self.initial_step = DEFAULT_TEMPO, DEFAULT_STEP
        self.initial_melody = DEFAULT_SEED_MELODY
        self.ensemble = Ensemble(DEFAULT_SEED_MELODY, seed=seed)
        self.tempo = TempoMap(DEFAULT_TEMPO)
        self.step_beats = DEFAULT_STEP
        self.beat = 0.0  # where the next phrase starts
        self.phrase_index = 0
        self.history = History()
        self.on_message = on_message
        self.muted: set[str] = set()
        # What a journal needs, kept from the start so that recording can begin at any time:
        # each applied command with its phrase, and each phrase's checksum.
        self.log: list[dict[str, Any]] = []
        self._recorder: Callable[[dict[str, Any]], None] | None = None
        self._pending: list[cmd.Command] = []
        self._lock = threading.Lock()
        # Held while a phrase is composed, so that a command and the phrase it is announced for
        # cannot slip apart: one submitted meanwhile waits the few milliseconds until it is done.
        self._composing = threading.RLock()

    def submit(self, command: cmd.Command | cmd.StageCommand) -> None:
        """Queue a command for the next phrase boundary (thread-safe)."""
        if isinstance(command, cmd.Wait):
            raise UserError("wait only makes sense in a script")
        with self._lock:
            self._pending.append(command)

    def record(self, start: Callable[[list[dict[str, Any]]], Callable[[dict[str, Any]], None]]) -> None:
        """Start a recording: `start` gets the log so far and returns where later entries go."""
        with self._lock:
            self._recorder = start(list(self.log))

    def stop_recording(self) -> None:
        with self._lock:
            self._recorder = None

    def _log(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.log.append(entry)
            recorder = self._recorder
        if recorder is not None:
            recorder(entry)

    def expected_agents(self) -> list[str]:
        """The agents there will be once the commands waiting for the boundary are applied."""
        with self._lock:
            pending = list(self._pending)
        names, next_index = list(self.ensemble.names), self.ensemble.next_index
        for command in pending:
            if isinstance(command, cmd.Spawn):
                names += [f"a{next_index + k}" for k in range(command.count)]
                next_index += command.count
            elif isinstance(command, cmd.Kill) and command.agent in names:
                names.remove(command.agent)
        return names

    def submit_for_next(self, command: cmd.Command) -> tuple[int, float]:
        """Submit, and say which phrase (index, start beat) it will land on."""
        with self._composing:
            self.submit(command)
            return self.phrase_index, self.beat

    def next_phrase(self) -> Phrase:
        """Apply what was submitted, then let every agent make its next attempt."""
        with self._composing:
            return self._compose()

    def _compose(self) -> Phrase:
        with self._lock:
            pending, self._pending = self._pending, []
        for command in pending:
            try:
                self.apply(command)
            except UserError as error:  # one bad command must not cost the others
                self.on_message(f"{command}: {error}")
                continue
            self._log({"phrase": self.phrase_index, "beat": self.beat, "time": round(time.time(), 3),
                       "command": str(command)})
        self._hear_steps_as_played()
        attempts = self.ensemble.step()
        self.history.attempts.append(attempts)
        self._log({"phrase": self.phrase_index, "checksum": checksum(attempts)})
        phrase = Phrase(
            index=self.phrase_index,
            start_beat=self.beat,
            step_beats=self.step_beats,
            tempo=self.tempo.bpm,
            parts=tuple(Part(a.agent, a.played, self.ensemble.sound(a.agent),
                             self.ensemble.hyperparameters(a.agent).velocity)
                        for a in attempts if a.heard and a.agent not in self.muted),
            n_steps=len(self.ensemble.melody),
        )
        self.phrase_index += 1
        self.beat += phrase.beats
        return phrase

    def apply(self, command: cmd.Command | cmd.StageCommand) -> None:
        """Apply one command now. Raises UserError, having changed nothing, when it cannot."""
        ensemble = self.ensemble
        match command:
            case cmd.Seed(melody):
                self.ensemble.reseed(melody)
            case cmd.Spawn(count):
                self.ensemble.spawn(count)
            case cmd.Set(who, changes):
                self.ensemble.configure(who, changes)
            case cmd.Tempo(bpm):
                self.tempo.set_tempo(self.beat, bpm)
            case cmd.Step(beats):
                self.step_beats = beats
            case cmd.Kill(agent):
                ensemble.remove(agent)
                self.muted.discard(agent)
            case cmd.Mute(who):
                self.muted |= set(self._who(who))
            case cmd.Unmute(who):
                self.muted -= set(self._who(who))
            case cmd.Solo(agent):
                self._who(agent)
                self.muted = set(ensemble.names) - {agent}
            case cmd.Follow(agent, target):
                ensemble.follow(agent, target)
            case cmd.Voice(who, voice):
                ensemble.configure(who, {"voice": voice})
            case cmd.Train(who, attempts):
                self._hear_steps_as_played()
                self.history.practice += len(ensemble.train(self._who(who), attempts))
            case cmd.Forget(who):
                for agent in self._who(who):
                    ensemble.forget(agent)
            case _:
                raise UserError(f"'{command}' is for the REPL; a script cannot use it")

    def _hear_steps_as_played(self) -> None:
        """Listening agents render their steps as long as the audience hears them."""
        self.ensemble.step_seconds = self.step_beats * 60.0 / self.tempo.bpm

    def _who(self, who: str) -> list[str]:
        """`all` or one agent, checked."""
        if who == "all":
            return list(self.ensemble.names)
        self.ensemble.hyperparameters(who)  # raises for an unknown agent
        return [who]

    def seconds(self, beat: float) -> float:
        return self.tempo.seconds(beat)

"""The running performance: the one place where commands are applied, on phrase boundaries.

Commands may be submitted from any thread at any time; they wait in a queue and are applied,
in order, when the next phrase begins, so nothing ever changes mid-note. Only the thread that
composes phrases touches the chain; other threads read the snapshot published after each
phrase and each submitted command. Whoever wants to know what was applied (the journal)
observes the session.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ensemble import commands as cmd
from ensemble.commands.language import Handlers
from ensemble.errors import UserError
from ensemble.events import Part, Phrase
from ensemble.history import History
from ensemble.learning.chain import SEED, Attempt, Chain, accuracy, agent_name, agent_number
from ensemble.learning.reach import Reach
from ensemble.measures import drift
from ensemble.melody import Melody, laid_on
from ensemble.mix import Mix
from ensemble.rhythm import ALLOWED, STEP, TICKS_PER_BEAT, Rhythm, beats, step_ticks
from ensemble.session_ports import Ear, KeyboardSeed, Observer, Outside, OutsideTempo
from ensemble.snapshot import AgentView, Snapshot
from ensemble.tempo import TempoMap
from ensemble.voicing import VOICING, Timbre, Voicing

log = logging.getLogger(__name__)

DEFAULT_SEED_MELODY = Melody.parse("C4 E4 G4 E4 C4")
DEFAULT_TEMPO = 120.0
DEFAULT_STEP = 0.5
RECENT = 8  # attempts an agent's recent accuracy looks back on
SEED_VOICING = Voicing()  # how the seed sounds to an agent that listens to it: the default saw


handles: Handlers[Session] = Handlers()  # one handler per performance command


def is_performance_command(command: cmd.Command) -> bool:
    return type(command) in handles


def is_sound_level(command: cmd.Command) -> bool:
    """Whether the command changes only what is heard, not what is learned: it may apply at once."""
    if isinstance(command, (cmd.Mute, cmd.Unmute, cmd.Solo, cmd.Voice)):
        return True
    return isinstance(command, cmd.Set) and all(key in VOICING for key in command.changes)


class Session:
    """`ear` makes the ear when an agent first listens (it needs the Glicol engine); without
    one, `reward=listen` is refused. `strict` (rehearsals) raises on a failing command instead
    of reporting it and going on."""

    def __init__(self, seed: int = 0, ear: Callable[[], Ear] | None = None, strict: bool = False) -> None:
        self.seed = seed
        self.strict = strict
        self.chain = Chain(DEFAULT_SEED_MELODY, seed=seed, hear=self._hear, can_listen=self._make_ear,
                           hear_timing=self._hear_timing)
        self.tempo = TempoMap(DEFAULT_TEMPO)
        # A tempo that comes from outside (Link, a MIDI clock): `tempo` commands are passed to it,
        # or refused by it, and each phrase is composed at its tempo (see take_tempo).
        self.outside_tempo: OutsideTempo | None = None
        self.keyboard: KeyboardSeed | None = None  # `--midi-in`: what `seed midi` listens to
        self.outside: Outside | None = None  # `--listen`: the other laptops of a laptop ensemble
        self.step_beats = DEFAULT_STEP
        self.beat = 0.0  # where the next phrase starts
        self.phrase_index = 0
        self.history = History(recent_attempts=RECENT)  # compact: the journal keeps the full record
        self._step_seconds = DEFAULT_STEP * 60.0 / DEFAULT_TEMPO
        self.muted: set[str] = set()
        self.voicings: dict[str, Voicing] = {}
        self.default_voicing = Voicing()
        self._ear_factory = ear
        self._ear: Ear | None = None
        self._observers: list[Observer] = []
        self._pending: list[tuple[cmd.Command, str | None]] = []
        self._lock = threading.Lock()
        # Held while a phrase is composed, so that a command and the phrase it is announced for
        # cannot slip apart: one submitted meanwhile waits the few milliseconds until it is done.
        self._composing = threading.RLock()
        self.snapshot = Snapshot()
        self.mix = Mix()  # swapped whole whenever who is heard, or how, changes
        self._reach = Reach()  # what agents' targets hold that they cannot play, said once

    # -- from any thread ------------------------------------------------------------------------

    def submit(self, command: cmd.Command, where: str | None = None) -> None:
        """Queue a command for the next phrase boundary (thread-safe). `where` it came from
        (`file:line`) prefixes its message if it fails."""
        if not is_performance_command(command):
            raise UserError(f"'{command}' is not about the performance; the session cannot apply it")
        with self._lock:
            self._pending.append((command, where))
            self.snapshot = replace(self.snapshot, pending=(*self.snapshot.pending, str(command)))

    def submit_for_next(self, command: cmd.Command) -> tuple[int, float]:
        """Submit, and say which phrase (index) it will land on and at what logical second."""
        with self._composing:
            self.submit(command)
            return self.phrase_index, self.tempo.seconds(self.beat)

    def apply_now(self, command: cmd.Command) -> bool:
        """Apply a sound-level command at once, between two phrases' compositions (thread-safe).

        It is journaled on the next phrase to be composed, the first that learns with it, so a
        replay learns the same. False, with nothing changed, when it names an agent that is not
        there yet (it is spawned at the next boundary): then it waits for the boundary too.
        """
        if not is_sound_level(command):
            raise UserError(f"'{command}' changes the learning: it lands on the next phrase boundary")
        with self._composing:
            expected = [name for name in command.agents() if name not in self.chain.names]
            if expected:
                return False
            self.apply(command)
            for observer in self._observers:
                observer.applied(self.phrase_index, self.beat, command)
            self._publish()
        return True

    def expected_agents(self) -> list[str]:
        """The agents there will be once the commands waiting for the boundary are applied."""
        with self._lock:
            snapshot, pending = self.snapshot, [command for command, _ in self._pending]
        names, number = list(snapshot.names), snapshot.next_number
        for command in pending:
            if isinstance(command, cmd.Spawn):
                names += [agent_name(number + k) for k in range(command.count)]
                number += command.count
            elif isinstance(command, cmd.Kill) and command.agent in names:
                names.remove(command.agent)
        return names

    def observe(self, observer: Observer) -> None:
        self._observers.append(observer)

    # -- on the composing thread -----------------------------------------------------------------

    def next_phrase(self) -> Phrase:
        """Apply what was submitted, then let every agent make its next attempt."""
        with self._composing:
            return self._compose()

    def _compose(self) -> Phrase:
        with self._lock:
            pending, self._pending = self._pending, []
        played = self.keyboard.take() if self.keyboard is not None else None
        if played is not None:  # journaled as the `seed` it is: a replay needs no keyboard
            log.warning("seed from the MIDI input: %s", played)
            pending.append((cmd.Seed(played), "the MIDI input"))
        for command, where in pending:
            self._apply_pending(command, where)
        if self.outside is not None:  # once the commands are in: a `follow` just typed takes it too
            for target, melody in self.outside.take(self.beat, self.chain.outside_targets()).items():
                self._apply_pending(cmd.Heard(target, melody), target)
        self._hear_steps_as_played()
        attempts = self.chain.step()
        melody = self.chain.melody
        seed_lengths = melody.ticks(self.chain.step_length) if self.chain.rhythmic else None
        self.history.record(attempts, melody.notes, self.muted, seed_lengths)
        self._reach.check(attempts, self.chain)
        for observer in self._observers:
            observer.composed(self.phrase_index, attempts)
        if self.outside is not None:
            self.outside.share(self.beat, self.chain.greedy_melodies())
        # With rhythm every part is laid on the seed's length: the shared phrase grid.
        grid = None if seed_lengths is None else sum(seed_lengths)
        phrase = Phrase(
            index=self.phrase_index,
            start_beat=self.beat,
            step_beats=self.step_beats,
            tempo=self.tempo.bpm,
            parts=tuple(self._part(a, grid) for a in attempts if a.heard and a.agent not in self.muted),
            n_steps=len(melody),
            silent=tuple(self._part(a, grid) for a in attempts if a.heard and a.agent in self.muted),
            length_beats=None if grid is None else beats(grid),
        )
        self.phrase_index += 1
        self.beat += phrase.beats
        self._publish()
        return phrase

    def _apply_pending(self, command: cmd.Command, where: str | None) -> None:
        """Apply a command at the boundary and journal it; one that fails is said and skipped
        (one bad command must not cost the others), or raised in a rehearsal."""
        try:
            self.apply(command)
        except UserError as error:
            if self.strict:
                raise UserError(f"{where}: {error}" if where else str(error)) from None
            log.warning("%s: %s", where or command, error)
            return
        if command.where & cmd.Where.JOURNAL:  # `seed midi` is kept as what it captured
            for observer in self._observers:
                observer.applied(self.phrase_index, self.beat, command)

    def apply(self, command: cmd.Command) -> None:
        """Apply one command now. Raises UserError, having changed nothing, when it cannot."""
        handler = handles.get(type(command))
        if handler is None:
            raise UserError(f"'{command}' is for the REPL; a script cannot use it")
        handler(self, command)

    def voicing(self, agent: str) -> Voicing:
        return self.voicings.get(agent, self.default_voicing)

    def _part(self, attempt: Attempt, grid: int | None) -> Part:
        """The attempt as heard; with rhythm (`grid`: the phrase's ticks) laid on the phrase."""
        voicing = self.voicing(attempt.agent)
        sound = voicing.sound(agent_number(attempt.agent))
        if grid is None or attempt.lengths is None:
            return Part(attempt.agent, attempt.played, sound, voicing.velocity)
        notes, lengths = laid_on(attempt.played, attempt.lengths, grid)
        return Part(attempt.agent, notes, sound, voicing.velocity, tuple(beats(t) for t in lengths))

    # -- the handlers, one per performance command ------------------------------------------------

    @handles(cmd.Seed)
    def _seed(self, command: cmd.Seed) -> None:
        if command.melody.rhythmic:
            self._need_grid_step("a seed with lengths")
        self.chain.reseed(command.melody)

    @handles(cmd.Transpose)
    def _transpose(self, command: cmd.Transpose) -> None:
        self.chain.reseed(self.chain.melody.transposed(command.semitones))

    @handles(cmd.Perturb)
    def _perturb(self, command: cmd.Perturb) -> None:
        self.chain.reseed(self.chain.melody.perturbed(command.how))

    @handles(cmd.Spawn)
    def _spawn(self, command: cmd.Spawn) -> None:
        for name in self.chain.spawn(command.count, command.leader):
            self.voicings[name] = self.default_voicing

    @handles(cmd.Set)
    def _set(self, command: cmd.Set) -> None:
        sound = {key: value for key, value in command.changes.items() if key in VOICING}
        learning = {key: value for key, value in command.changes.items() if key not in VOICING}
        agents = self._who(command.who)
        voicings = {name: self.voicing(name).changed(sound) for name in agents}  # all checked first
        default = self.default_voicing.changed(sound) if command.who == "all" else self.default_voicing
        if Rhythm.parse(learning.get("rhythm", "step")).lengths:
            self._need_grid_step("a rhythm palette")
        if learning:
            self.chain.configure(command.who, learning)
        self.voicings.update(voicings)
        self.default_voicing = default

    @handles(cmd.Tempo)
    def _tempo(self, command: cmd.Tempo) -> None:
        if self.outside_tempo is not None:
            self.outside_tempo.set_tempo(command.bpm)  # every Link peer's; a MIDI clock refuses
        self.tempo.set_tempo(self.beat, command.bpm)

    @handles(cmd.SeedMidi)
    def _seed_midi(self, command: cmd.SeedMidi) -> None:
        self.listen_for_seed(command)

    def listen_for_seed(self, command: cmd.SeedMidi) -> str:
        """Arm (or stop) the keyboard for `seed midi`: N steps, or every phrase the length of
        the seed. Thread-safe (the keyboard is): the REPL arms it at once. Its status, in a line."""
        keyboard = self.keyboard
        if keyboard is None:
            raise UserError("seed midi needs a MIDI input: a live performance with --midi-in [PORT]")
        if command.what == "off":
            keyboard.off()
            return keyboard.status()
        bpm = self.tempo.bpm
        steps = len(self.chain.melody.notes) if command.what == "follow" else int(command.what)
        request = (steps, self.step_beats * 60.0 / bpm, 60.0 / bpm, self.chain.rhythmic)
        (keyboard.follow if command.what == "follow" else keyboard.capture)(*request)
        return keyboard.status()

    def take_tempo(self, bpm: float) -> None:
        """The tempo followed from outside, for the next phrase (before it is composed; commands
        that land on it come after, so that a `tempo` typed meanwhile has the last word)."""
        self.tempo.set_tempo(self.beat, bpm)

    @handles(cmd.Step)
    def _step(self, command: cmd.Step) -> None:
        ticks = step_ticks(command.beats)
        if ticks is None and self.chain.rhythmic:
            raise UserError(f"step {command.beats:g}: with lengths in play the step must be {ALLOWED}")
        self.step_beats = command.beats
        self.chain.step_length = STEP if ticks is None else ticks

    def _need_grid_step(self, what: str) -> None:
        if self.chain.step_length == STEP:
            raise UserError(f"{what} needs a step on the grid of lengths (step is {self.step_beats:g}; "
                            f"it must be {ALLOWED})")

    @handles(cmd.Kill)
    def _kill(self, command: cmd.Kill) -> None:
        self.chain.remove(command.agent)
        self.muted.discard(command.agent)
        self.voicings.pop(command.agent, None)

    @handles(cmd.Mute)
    def _mute(self, command: cmd.Mute) -> None:
        self.muted |= set(self._who(command.who))

    @handles(cmd.Unmute)
    def _unmute(self, command: cmd.Unmute) -> None:
        self.muted -= set(self._who(command.who))

    @handles(cmd.Solo)
    def _solo(self, command: cmd.Solo) -> None:
        self._who(command.agent)
        self.muted = set(self.chain.names) - {command.agent}

    @handles(cmd.Follow)
    def _follow(self, command: cmd.Follow) -> None:
        self.chain.follow(command.agent, command.target)

    @handles(cmd.Heard)
    def _heard(self, command: cmd.Heard) -> None:
        self.chain.hear_outside(command.agent, command.melody)

    @handles(cmd.Voice)
    def _voice(self, command: cmd.Voice) -> None:
        self._set(cmd.Set(command.who, {"voice": command.voice}))

    @handles(cmd.Train)
    def _train(self, command: cmd.Train) -> None:
        self._hear_steps_as_played()
        self.history.practice += len(self.chain.train(self._who(command.who), command.attempts))

    @handles(cmd.Forget)
    def _forget(self, command: cmd.Forget) -> None:
        for agent in self._who(command.who):
            self.chain.forget(agent)

    # -- internals -------------------------------------------------------------------------------

    def _who(self, who: str) -> list[str]:
        """`all` or one agent, checked."""
        if who == "all":
            return list(self.chain.names)
        self.chain.settings(who)  # raises for an unknown agent
        return [who]

    def _hear_steps_as_played(self) -> None:
        """Listening agents render their steps as long as the audience hears them."""
        self._step_seconds = self.step_beats * 60.0 / self.tempo.bpm

    def _make_ear(self) -> None:
        if self._ear is None:
            if self._ear_factory is None:
                raise UserError("reward=listen needs the Glicol engine, and this performance has no ear")
            self._ear = self._ear_factory()  # raises, changing nothing, when the engine cannot be had

    def _hear(self, agents: list[str], leaders: list[str], played: np.ndarray,
              targets: np.ndarray) -> np.ndarray:
        """Rewards for listening agents: each hears its own voice against its target's."""
        ear = self._listening_ear()
        result = np.empty(played.shape)
        for (mine, theirs), rows in self._timbre_pairs(agents, leaders).items():
            result[rows] = ear.rewards(played[rows], mine, targets[rows], theirs)
        return result

    def _hear_timing(self, agents: list[str], leaders: list[str], played: np.ndarray, lengths: np.ndarray,
                     targets: np.ndarray, target_lengths: np.ndarray) -> np.ndarray:
        """The timing part of listening agents' rewards: each hears its attempt's notes at their
        lengths, in its own voice, against its target's in the target's voice."""
        ear = self._listening_ear()
        tick_seconds = 60.0 / self.tempo.bpm / TICKS_PER_BEAT
        result = np.empty(played.shape)
        for (mine, theirs), rows in self._timbre_pairs(agents, leaders).items():
            result[rows] = ear.timing(mine, theirs, tick_seconds, played[rows], lengths[rows], targets[rows],
                                      target_lengths[rows])
        return result

    def _listening_ear(self) -> Ear:
        if self._ear is None:
            raise UserError("no ear to listen with")
        return self._ear

    def _timbre_pairs(self, agents: list[str], leaders: list[str]) -> dict[tuple[Timbre, Timbre], list[int]]:
        """The listening agents (their rows) by their own timbre and their target's: each group is
        heard in one call."""
        pairs: dict[tuple[Timbre, Timbre], list[int]] = {}
        for index, (name, leader) in enumerate(zip(agents, leaders, strict=True)):
            theirs = SEED_VOICING if leader == SEED else self.voicing(leader)
            pairs.setdefault((self._timbre(self.voicing(name)), self._timbre(theirs)), []).append(index)
        return pairs

    def _timbre(self, voicing: Voicing) -> Timbre:
        return Timbre(voicing.voice, voicing.cutoff, round(self._step_seconds, 4))

    def _publish(self) -> None:
        chain = self.chain
        agents = []
        for name in chain.names:
            recent = self.history.recent(name, RECENT)
            settings = chain.settings(name)
            last = recent[-1] if recent else None
            against_seed = None if last is None else accuracy(
                last.played, chain.melody.notes, last.lengths,
                chain.melody.ticks(chain.step_length) if last.lengths is not None else None)
            written = None if last is None else str(Melody(last.played, last.lengths))
            agents.append(AgentView(
                name, chain.follows[name], chain.epsilon(name), tuple(a.accuracy for a in recent),
                against_seed, written, name in self.muted,
                f"{settings.summary()} voice={self.voicing(name).voice}",
                None if last is None else drift(last.played, chain.melody.notes)))
        voicings = {name: self.voicing(name) for name in chain.names}
        sounds = {name: (voicing.sound(agent_number(name)), voicing.velocity)
                  for name, voicing in voicings.items()}
        with self._lock:
            self.snapshot = Snapshot(self.phrase_index, self.tempo.bpm, tuple(agents), chain.next_index,
                                     tuple(str(command) for command, _ in self._pending), str(chain.melody))
            self.mix = Mix(frozenset(self.muted), sounds)

    def seconds(self, beat: float) -> float:
        return self.tempo.seconds(beat)


"""A live performance driven by typed commands: what the REPL does, without a terminal.

Commands about the performance go to the session and land on the next phrase boundary;
commands about the stage (outputs, recording, status, help) are answered at once. Everything
shown (toolbar, status, completion) is read from the session's published snapshot, never
from the chain the conductor's thread is changing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ensemble import commands as cmd
from ensemble.clock import Clock
from ensemble.commands.language import Handlers
from ensemble.conductor import DEFAULT_LOOKAHEAD
from ensemble.errors import UserError
from ensemble.outputs import destinations
from ensemble.outputs.base import Output
from ensemble.peers.names import outside_agent, parse_address
from ensemble.performance.journal import default_path
from ensemble.performance.runner import Runner
from ensemble.performance.script import ScriptLine, load_script
from ensemble.performance.sources import typed_source
from ensemble.report import sparkline
from ensemble.session import RECENT, is_performance_command, is_sound_level
from ensemble.session_ports import Ear
from ensemble.snapshot import Snapshot
from ensemble.sync.follow import Follow

if TYPE_CHECKING:
    from ensemble.midi.keyboard import Keyboard
    from ensemble.peers.band import Band

log = logging.getLogger(__name__)
handles: Handlers[Stage] = Handlers()  # one handler per REPL-only command, answered at once


class Stage:
    def __init__(self, outputs: list[Output], clock: Clock, seed: int = 0,
                 lookahead: float = DEFAULT_LOOKAHEAD,
                 make_output: Callable[[str], Output] = destinations.make_output,
                 ear: Callable[[], Ear] | None = None, when_open: Callable[[], None] = lambda: None,
                 follow: Follow | None = None, keyboard: Keyboard | None = None,
                 band: Band | None = None) -> None:
        options: dict[str, Any] = {} if ear is None else {"ear": ear}
        # On stage nothing ends the performance but the performer: not even having no output.
        self.runner = Runner(typed_source(seed), outputs, clock, lookahead, when_open=when_open,
                             require_output=False, follow=follow, keyboard=keyboard, band=band, **options)
        self.session = self.runner.session
        self.conductor = self.runner.conductor
        self.clock = clock
        self.make_output = make_output
        self.finished = self.runner.finished
        self.quitting = False

    def start(self) -> None:
        self.runner.start()

    def stop(self) -> None:
        """All notes off, outputs closed, the journal flushed."""
        self.quitting = True
        self.runner.stop()

    @property
    def snapshot(self) -> Snapshot:
        return self.session.snapshot

    def context(self, outputs: list[str] | None = None) -> cmd.Context:
        """What completion may offer: the agents there will be, and destinations."""
        band = self.runner.band
        return cmd.Context(tuple(self.session.expected_agents()), tuple(outputs or destinations.FORMS),
                           () if band is None else band.sharing())

    # -- typing -------------------------------------------------------------------------------

    def type(self, line: str) -> str:
        """Do what a typed line says; the answer is one line (or a table), never an exception."""
        try:
            command = cmd.parse_command(line, cmd.Where.REPL)
            if command is None:
                return ""
            handler = handles.get(type(command))
            return handler(self, command) if handler else self._perform(command)
        except UserError as error:
            return str(error)

    def _perform(self, command: cmd.Command) -> str:
        if not is_performance_command(command):
            raise UserError(f"'{command.name}' cannot be done here")
        expected = self.session.expected_agents()
        for name in command.agents():  # refuse now what would fail at the boundary
            if name not in expected:
                # The whole list, no guess: a0 to a9 are all one edit apart.
                known = ", ".join(expected) or "none yet: spawn some"
                raise UserError(f"no agent '{name}' (agents: {known})")
        if isinstance(command, cmd.Spawn):  # refused, not heard dropping out
            self._check_room(command, len(expected) + command.count)
        outside = self._outside_target(command)
        if is_sound_level(command) and self.session.apply_now(command):
            return f"{command}: now (heard within {self.conductor.lookahead:g} s)"
        index, seconds = self.session.submit_for_next(command)
        start = self.conductor.origin + seconds
        answer = f"{command}: at phrase {index + 1}, {max(0.0, start - self.clock.now()):.1f} s from now"
        return answer + outside

    def _outside_target(self, command: cmd.Command) -> str:
        """For a command that copies an agent on another laptop: refused without the network,
        else what is known of it, to be said after the answer."""
        target = (command.target if isinstance(command, cmd.Follow)
                  else command.leader if isinstance(command, cmd.Spawn) else None)
        if target is None or outside_agent(target) is None:
            return ""
        if self.runner.band is None:
            raise UserError(f"{target} is on another laptop: start with --listen HOST:PORT "
                            "(and --peer HOST:PORT)")
        if target in self.runner.band.sharing():
            return ""
        return f" (nothing heard of {target} yet: until then it copies the seed)"

    def _check_room(self, command: cmd.Command, agents: int) -> None:
        """Every output playing must be able to take `agents` agents in all."""
        for output in list(self.conductor.outputs):
            refusal = output.room_for(agents)
            if refusal:
                raise UserError(f"{command}: refused, {output.name} would drop out: {refusal}")

    @handles(cmd.Link)
    def _link(self, command: cmd.Link) -> str:
        return self.runner.link(command.on)

    @handles(cmd.SeedMidi)
    def _seed_midi(self, command: cmd.SeedMidi) -> str:
        """Listening starts now, not at the boundary: the performer may play at once."""
        return f"{command}: {self.session.listen_for_seed(command)}"

    @handles(cmd.Quit)
    def _quit(self, command: cmd.Quit) -> str:
        self.quitting = True
        return "stopping: all notes off"

    @handles(cmd.Help)
    def _help(self, command: cmd.Help) -> str:
        if command.topic is None:
            return "\n".join(declared.help_line() for declared in cmd.COMMANDS.values())
        text = cmd.COMMANDS[command.topic].help_line()
        if command.topic == "set":
            from ensemble.commands.kinds import SETTINGS, setting_help

            text += "\n" + "\n".join(f"  {key}: {setting_help(key)}" for key in SETTINGS)
        if command.topic == "out":
            text += "\n" + "\n".join(f"  {' or '.join(kind.forms)}: {kind.help}"
                                     for kind in destinations.KINDS.values())
        return text

    @handles(cmd.Load)
    def _load(self, command: cmd.Load) -> str:
        lines = load_script(Path(command.path))  # a bad line is refused whole, with file:line
        waits = sum(line.command.phrases for line in lines if isinstance(line.command, cmd.Wait))
        commands = sum(not isinstance(line.command, cmd.Wait) for line in lines)
        thread = threading.Thread(target=self._play_script, args=(command.path, lines), name="load",
                                  daemon=True)
        thread.start()
        return f"load {command.path}: {commands} commands, {waits} phrases of waiting, from now"

    def _play_script(self, name: str, lines: list[ScriptLine]) -> None:
        """Each command as if typed; `wait N` lets N phrases be composed first."""
        for line in lines:
            if self.quitting or self.finished.is_set():
                return
            if isinstance(line.command, cmd.Wait):
                until = self.session.snapshot.phrase + line.command.phrases
                while self.session.snapshot.phrase < until and not self.finished.wait(0.02):
                    pass
                continue
            reply = self._perform_quietly(line.command)
            if reply:
                log.warning("%s:%d: %s", name, line.number, reply)

    def _perform_quietly(self, command: cmd.Command) -> str:
        """Perform a loaded command; only a refusal is worth saying."""
        try:
            self._perform(command)
        except UserError as error:
            return str(error)
        return ""

    @handles(cmd.Status)
    def _status(self, command: cmd.Status) -> str:
        return self.status()

    @handles(cmd.Out)
    def _out(self, command: cmd.Out) -> str:
        if command.action == "add":
            self.conductor.add_output(self.make_output(command.spec))
            return f"out add {command.spec}: from the next phrase"
        for output in list(self.conductor.outputs):
            if output.name == destinations.kind_of(command.spec):
                self.conductor.remove_output(output)
                return f"out remove {command.spec}: from the next phrase"
        playing = ", ".join(o.name for o in self.conductor.outputs) or "none"
        raise UserError(f"no output '{command.spec}' playing (playing: {playing})")

    @handles(cmd.Peer)
    def _peer(self, command: cmd.Peer) -> str:
        band = self._band()
        address = parse_address(command.address)
        return band.add(address) if command.action == "add" else band.remove(address)

    @handles(cmd.Peers)
    def _peers(self, command: cmd.Peers) -> str:
        return "\n".join(self._band().lines())

    def _band(self) -> Band:
        if self.runner.band is None:
            raise UserError("no other laptops: start with --listen HOST:PORT (and --peer HOST:PORT)")
        return self.runner.band

    @handles(cmd.Record)
    def _record(self, command: cmd.Record) -> str:
        if not command.on:
            done = self.runner.stop_recording()
            return f"recorded {done}" if done else "not recording"
        writer = self.runner.record(Path(command.path) if command.path else default_path())
        return f"recording to {writer.path} (from the start of the performance)"

    # -- what there is to see -------------------------------------------------------------------

    def status(self) -> str:
        snapshot = self.snapshot
        if not snapshot.agents:
            return "no agents yet: spawn some"
        rows = [["agent", "copies", "last attempt", "vs target", "vs seed", "epsilon", "heard",
                 "settings"]]
        for agent in snapshot.agents:
            rows.append([
                agent.name, agent.copies,
                agent.last_played if agent.last_played is not None else "-",
                f"{agent.recent[-1]:.0%}" if agent.recent else "-",
                f"{agent.against_seed:.0%}" if agent.against_seed is not None else "-",
                f"{agent.epsilon:.2f}",
                "muted" if agent.muted else "yes", agent.summary,
            ])
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        table = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                 for row in rows]
        footer = [f"seed: {snapshot.seed}"]
        if snapshot.pending:
            footer.append(f"pending: {'; '.join(snapshot.pending)}")
        return "\n".join([*table, *footer])

    def toolbar(self) -> str:
        """One line: tempo and phrase, then every agent: recent accuracy, epsilon, exact or not."""
        snapshot = self.snapshot
        follow = self.runner.follow
        tempo = f"{snapshot.tempo:g} bpm" if follow is None else follow.beats.label()
        parts = [tempo, f"phrase {self.conductor.phrases_played}"]
        if self.runner.keyboard is not None:
            parts.append(f"keys: {self.runner.keyboard.status()}")
        if self.runner.band is not None:
            parts.append(self.runner.band.toolbar())
        if self.runner.recorder.writer is not None:
            parts.append("REC")
        if snapshot.pending:
            parts.append(f"pending {len(snapshot.pending)}")
        for agent in snapshot.agents:
            spark = sparkline(list(agent.recent), width=RECENT) if agent.recent else ""
            exact = "=" if agent.recent and agent.recent[-1] == 1.0 else " "
            seed = f" s{agent.against_seed:.0%}" if agent.against_seed is not None else ""
            seed += f" d{agent.drift:.2f}" if agent.drift else ""  # drifted from the seed (edit distance)
            muted = " (muted)" if agent.muted else ""
            parts.append(f"{agent.name}{muted} {spark} e{agent.epsilon:.2f}{exact}{seed}")
        return " | ".join(parts)

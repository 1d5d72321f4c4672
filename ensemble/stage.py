"""A live performance driven by typed commands: the session, its conductor and its outputs.

Everything the REPL does goes through here, so it can be driven without a terminal. Commands
about the performance go to the session and land on the next phrase boundary; commands about
the stage (outputs, status, help) are answered at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ensemble import commands as cmd
from ensemble.clock import Clock
from ensemble.conductor import Conductor
from ensemble.errors import UserError
from ensemble.outputs.base import Output
from ensemble.outputs.destinations import parse_output
from ensemble.report import sparkline
from ensemble.session import Session

if TYPE_CHECKING:
    from ensemble.performance.journal import JournalWriter

RECENT = 8  # attempts in an agent's sparkline


class Stage:
    def __init__(self, outputs: list[Output], clock: Clock, seed: int = 0, lookahead: float = 0.15,
                 on_message: Callable[[str], None] = print,
                 make_output: Callable[[str], Output] = parse_output) -> None:
        self.session = Session(seed=seed, on_message=on_message)
        self.clock = clock
        self.on_message = on_message
        self.make_output = make_output
        self.conductor = Conductor(iter(self.session.next_phrase, None), self.session.tempo, outputs, clock,
                                   lookahead=lookahead, on_message=on_message)
        self.finished = threading.Event()
        self.quitting = False
        self.journal: JournalWriter | None = None
        self._thread = threading.Thread(target=self._run, name="conductor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """All notes off, outputs closed, the journal flushed."""
        self.quitting = True
        self.conductor.stop()
        self._thread.join(timeout=5.0)
        if self.journal is not None:
            self.journal.close()
            self.on_message(f"recorded {self.journal.path}")
            self.journal = None

    def _run(self) -> None:
        try:
            self.conductor.run()
        except UserError as error:
            self.on_message(str(error))
        finally:
            self.finished.set()

    # -- typing -------------------------------------------------------------------------------

    def type(self, line: str) -> str:
        """Do what a typed line says; the answer is one line (or a table), never an exception."""
        try:
            command = cmd.parse_command(line)
            if command is None:
                return ""
            return self._do(command)
        except UserError as error:
            return str(error)

    def _do(self, command: cmd.Command | cmd.StageCommand) -> str:
        match command:
            case cmd.Quit():
                self.quitting = True
                return "stopping: all notes off"
            case cmd.Help(topic):
                return self.help(topic)
            case cmd.Status():
                return self.status()
            case cmd.Out(action, spec):
                return self._out(action, spec)
            case cmd.Record(on, path):
                return self._record(on, path)
            case cmd.Wait():
                return "wait is for scripts: here every command lands on the next phrase anyway"
        self._check(command)
        index, beat = self.session.submit_for_next(command)
        start = self.conductor.origin + self.session.tempo.seconds(beat)
        return f"{command}: at phrase {index + 1}, {max(0.0, start - self.clock.now()):.1f} s from now"

    def _check(self, command: cmd.Command) -> None:
        """Refuse now what would fail at the boundary: an agent that will not be there."""
        expected = self.session.expected_agents()
        for name in _agents_named(command):
            if name not in expected and name not in ("all", "seed"):
                known = ", ".join(expected) or "none yet: spawn some"
                raise UserError(f"no agent '{name}' (agents: {known})")

    def _record(self, on: bool, path: str | None) -> str:
        from ensemble.performance.journal import JournalWriter, default_path

        if not on:
            if self.journal is None:
                return "not recording"
            self.journal.close()
            done, self.journal = self.journal.path, None
            return f"recorded {done}"
        if self.journal is not None:
            return f"already recording to {self.journal.path}"
        outputs = [output.name for output in self.conductor.outputs]
        self.journal = JournalWriter(Path(path) if path else default_path(), self.session, outputs)
        return f"recording to {self.journal.path} (from the start of the performance)"

    def _out(self, action: str, spec: str) -> str:
        if action == "add":
            output = self.make_output(spec)
            self.conductor.add_output(output)
            return f"out add {spec}: from the next phrase"
        for output in list(self.conductor.outputs):
            if output.name == spec.partition(":")[0]:
                self.conductor.remove_output(output)
                return f"out remove {spec}: from the next phrase"
        playing = ", ".join(o.name for o in self.conductor.outputs) or "none"
        raise UserError(f"no output '{spec}' playing (playing: {playing})")

    # -- what there is to see -------------------------------------------------------------------

    def help(self, topic: str | None) -> str:
        if topic is None:
            return "\n".join(cmd.HELP.values())
        text = cmd.HELP[topic]
        if topic == "set":
            from ensemble.hyperparams import SPECS

            text += "\n" + "\n".join(f"  {key}: {spec.allowed}" for key, spec in SPECS.items())
        return text

    def status(self) -> str:
        ensemble = self.session.ensemble
        if not ensemble.names:
            return "no agents yet: spawn some"
        rows = [["agent", "copies", "last attempt", "accuracy", "epsilon", "heard", "hyperparameters"]]
        for name in ensemble.names:
            recent = self.session.history.recent(name, RECENT)
            hyper = ensemble.hyperparameters(name)
            rows.append([
                name, ensemble.follows[name], " ".join(_note_names(recent[-1].played)) if recent else "-",
                f"{recent[-1].accuracy:.0%}" if recent else "-", f"{ensemble.epsilon(name):.2f}",
                "muted" if name in self.session.muted else "yes",
                f"alpha={hyper.alpha:g} reward={hyper.reward} palette={hyper.palette} voice={hyper.voice}",
            ])
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                         for row in rows)

    def toolbar(self) -> str:
        """One line: tempo and phrase, then every agent: recent accuracy, epsilon, exact or not."""
        session = self.session
        parts = [f"{session.tempo.bpm:g} bpm", f"phrase {self.conductor.phrases_played}"]
        for name in session.ensemble.names:
            recent = session.history.recent(name, RECENT)
            spark = sparkline([a.accuracy for a in recent], width=RECENT) if recent else ""
            exact = "=" if recent and recent[-1].accuracy == 1.0 else " "
            muted = "m" if name in session.muted else ""
            parts.append(f"{name}{muted} {spark} e{session.ensemble.epsilon(name):.2f}{exact}")
        return " | ".join(parts)


def _note_names(notes: tuple[int, ...]) -> list[str]:
    from ensemble.melody import note_name

    return [note_name(note) for note in notes]


def _agents_named(command: cmd.Command) -> list[str]:
    match command:
        case cmd.Set(who) | cmd.Mute(who) | cmd.Unmute(who) | cmd.Voice(who) | cmd.Train(who):
            return [who]
        case cmd.Forget(who):
            return [who]
        case cmd.Kill(agent) | cmd.Solo(agent):
            return [agent]
        case cmd.Follow(agent, target):
            return [agent, target]
    return []

"""The stage REPL: type commands while the music plays (prompt_toolkit)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory
from prompt_toolkit.patch_stdout import patch_stdout

from ensemble import commands as cmd
from ensemble.hyperparams import INITS, REWARDS, SPECS, VOICES
from ensemble.melody import SCALES
from ensemble.stage import Stage

PROMPT = "ensemble> "
_AGENT_ARGS = {"mute": True, "unmute": True, "voice": True, "train": True, "forget": True, "set": True,
               "kill": False, "solo": False, "follow": False}  # command -> whether `all` fits
_CHOICES = {"reward": REWARDS, "init": INITS, "voice": VOICES, "rests": ("on", "off")}


def history_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    path = Path(base) / "ensemble" / "history"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


class CommandCompleter(Completer):
    """Commands, agent names, hyperparameters and their values, voices, scales, MIDI ports."""

    def __init__(self, agents: Callable[[], list[str]], midi_ports: Callable[[], list[str]]) -> None:
        self.agents = agents
        self.midi_ports = midi_ports

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        text = document.text_before_cursor
        words = text.split()
        current = "" if text.endswith(" ") or not words else words[-1]
        done = words if current == "" else words[:-1]
        for word in self._candidates(done, current):
            if word.startswith(current) and word != current:
                yield Completion(word, start_position=-len(current))

    def _candidates(self, done: list[str], current: str) -> list[str]:
        if not done:
            return list(cmd.COMMAND_NAMES)
        command, position = done[0], len(done)
        if command == "help" and position == 1:
            return list(cmd.COMMAND_NAMES)
        if command == "record" and position == 1:
            return ["on", "off"]
        if command == "out":
            return ["add", "remove"] if position == 1 else self._outputs() if position == 2 else []
        if command == "voice" and position == 2:
            return list(VOICES)
        if command == "follow" and position == 2:
            return [*self.agents(), "seed"]
        if command == "set" and position >= 2:
            return self._settings(current)
        if command in _AGENT_ARGS and position == 1:
            return [*self.agents(), *(["all"] if _AGENT_ARGS[command] else [])]
        return []

    def _settings(self, current: str) -> list[str]:
        key, equals, _ = current.partition("=")
        if not equals:
            return [f"{name}=" for name in SPECS]
        if key == "palette":
            return [f"palette={scale}:" for scale in SCALES]
        return [f"{key}={value}" for value in _CHOICES.get(key, ())]

    def _outputs(self) -> list[str]:
        try:
            ports = [f"midi:{name}" for name in self.midi_ports()]
        except Exception:  # no MIDI system: nothing to offer, no reason to complain here
            ports = []
        return ["glicol", "sc", "sc:127.0.0.1:57110", "midi", *ports]


def run_repl(stage: Stage, midi_ports: Callable[[], list[str]] = lambda: [], vi_mode: bool = False,
             history: Path | None = None, **prompt_options: Any) -> None:
    """Prompt until `quit`, Ctrl-D or the end of the performance; then stop cleanly."""
    prompt = PromptSession(
        history=FileHistory(str(history or history_path())),
        completer=CommandCompleter(lambda: stage.session.ensemble.names, midi_ports),
        bottom_toolbar=stage.toolbar, refresh_interval=0.5, vi_mode=vi_mode, **prompt_options)
    with patch_stdout(raw=True):  # messages from the music appear above the line being typed
        stage.start()
        try:
            while not stage.quitting and not stage.finished.is_set():
                try:
                    line = prompt.prompt(PROMPT)
                except KeyboardInterrupt:  # Ctrl-C clears the line
                    continue
                except EOFError:  # Ctrl-D
                    break
                reply = stage.type(line)
                if reply:
                    print(reply)
        finally:
            stage.stop()

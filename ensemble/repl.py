"""The stage REPL: type commands while the music plays (prompt_toolkit)."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.key_binding.bindings.completion import generate_completions
from prompt_toolkit.patch_stdout import patch_stdout

from ensemble import __version__, logs
from ensemble import commands as cmd
from ensemble.outputs.destinations import FORMS
from ensemble.safe_text import printable
from ensemble.stage import Stage

PROMPT = "ensemble> "
log = logging.getLogger(__name__)


def history_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "ensemble" / "history"


class KeptHistory(FileHistory):
    """The history file, while it can be written. When a write fails (a full disk, a read-only or
    vanished directory) the performer is told once, and from then on this session's lines are
    kept in memory only: the line is still taken, and the up arrow still recalls it."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path
        self.saving = True

    def load_history_strings(self) -> Iterable[str]:
        try:
            return list(super().load_history_strings())
        except OSError as error:  # unreadable: start empty, and do not try to write there either
            self._stop_saving(error)
            return []

    def store_string(self, string: str) -> None:
        # prompt_toolkit has already kept the line in memory; only the file is at stake here.
        if not self.saving:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            super().store_string(string)
        except OSError as error:
            self._stop_saving(error)

    def _stop_saving(self, error: OSError) -> None:
        self.saving = False
        reason = error.strerror or str(error)
        log.warning("history no longer saved (%s: %s); this session's lines are kept in memory only",
                    printable(str(self.path), 200), reason)


class CommandCompleter(Completer):
    """Whatever the command being typed declares its next argument may be (see commands/)."""

    def __init__(self, context: Callable[[], cmd.Context]) -> None:
        self.context = context

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        text = document.text_before_cursor
        words = text.split()
        current = "" if text.endswith(" ") or not words else words[-1]
        done = words if current == "" else words[:-1]
        for word, meaning in self._candidates(done, current):
            if word == "" and meaning:  # a hint where a number goes: shows its range, inserts nothing
                yield Completion("", display=meaning)
            elif word.startswith(current) and word != current:
                yield Completion(word, start_position=-len(current), display_meta=meaning)

    def _candidates(self, done: list[str], current: str) -> list[tuple[str, str]]:
        if not done:
            return [(name, declared.help) for name, declared in cmd.COMMANDS.items()
                    if declared.where & cmd.Where.REPL and " " not in name]
        if " ".join(done[:2]) in cmd.COMMANDS:  # `seed midi ...`: a command of two words
            done = [" ".join(done[:2]), *done[2:]]
        declared = cmd.COMMANDS.get(done[0])
        if declared is None:
            return []
        # after `seed `: `midi` as well as what `seed` itself takes
        second = [(name.split()[1], other.help) for name, other in cmd.COMMANDS.items()
                  if len(done) == 1 and name.startswith(f"{done[0]} ")]
        position = len(done) - 1
        args = declared.args
        if not args or (position >= len(args) and not args[-1].kind.variadic):
            return second
        return second + args[min(position, len(args) - 1)].kind.complete(current, self.context())


def tab_completes_a_unique_prefix() -> KeyBindings:
    """Tab inserts the completion at once when there is only one, as a shell does; otherwise
    prompt_toolkit's own Tab (the common part, then the menu)."""
    bindings = KeyBindings()

    @bindings.add("tab")
    def _tab(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        if buffer.complete_state is not None:
            found = buffer.complete_state.completions
        elif buffer.completer is not None:
            asked = CompleteEvent(completion_requested=True)
            found = list(buffer.completer.get_completions(buffer.document, asked))
        else:
            found = []
        insertable = [completion for completion in found if completion.text]
        if len(insertable) == 1 and len(found) == 1:
            buffer.apply_completion(insertable[0])
        else:
            generate_completions(event)

    return bindings


def run_repl(stage: Stage, midi_ports: Callable[[], list[str]] = lambda: [], vi_mode: bool = False,
             history: Path | None = None, **prompt_options: Any) -> None:
    """Prompt until `quit`, Ctrl-D or the end of the performance; then stop cleanly."""

    def context() -> cmd.Context:
        try:
            ports = [f"midi:{name}" for name in midi_ports()]
        except Exception:  # no MIDI system: nothing to offer, no reason to complain here
            ports = []
        return stage.context([*FORMS, *ports])

    prompt: PromptSession[str] = PromptSession(
        history=KeptHistory(history or history_path()),
        completer=CommandCompleter(context),
        bottom_toolbar=stage.toolbar, refresh_interval=0.5, vi_mode=vi_mode,
        key_bindings=tab_completes_a_unique_prefix(), **prompt_options)
    # Messages from the music appear above the line being typed.
    with patch_stdout(raw=True), logs.shown_on(sys.stdout):
        outputs = ", ".join(output.name for output in stage.conductor.outputs) or "nothing yet (out add ...)"
        print(f"ensemble {__version__}, playing on {outputs}: type `help` for commands, Ctrl-D to stop")
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

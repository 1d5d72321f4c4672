"""The stage REPL: type commands while the music plays (prompt_toolkit)."""

from __future__ import annotations

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
from ensemble.stage import Stage

PROMPT = "ensemble> "


def history_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    path = Path(base) / "ensemble" / "history"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


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
                    if declared.where & cmd.Where.REPL]
        declared = cmd.COMMANDS.get(done[0])
        if declared is None or not declared.args:
            return []
        position = len(done) - 1
        args = declared.args
        if position >= len(args) and not args[-1].kind.variadic:
            return []
        return args[min(position, len(args) - 1)].kind.complete(current, self.context())


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
        history=FileHistory(str(history or history_path())),
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

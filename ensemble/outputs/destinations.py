"""The table of destinations: `glicol`, `sc[:HOST:PORT]`, `midi[:PORT]`.

One table feeds `--to`, `out add`, completion, help and error messages. Each backend is imported
only when one of its outputs is made, so `--to midi` never loads the Glicol engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ensemble.errors import UserError
from ensemble.hints import nearest
from ensemble.outputs.base import Output

DEFAULT_SC_PORT = 57110
DEFAULT_SC_LATENCY = 0.05  # seconds added to every SuperCollider time tag: the server's own slack


@dataclass(frozen=True)
class LiveOptions:
    """What the command line says about outputs, beyond where they play."""

    sc_latency: float = DEFAULT_SC_LATENCY
    midi_backend: str | None = None
    midi_clock: bool = False


@dataclass(frozen=True)
class Kind:
    name: str
    forms: tuple[str, ...]  # how it may be written, for help and messages
    help: str
    check: Callable[[str], object]  # the text after `NAME:` -> raises UserError when wrong
    make: Callable[[str, LiveOptions], Output]


def _no_detail(rest: str) -> None:
    if rest:
        raise UserError("glicol takes nothing after it: write glicol")


def _sc_address(rest: str) -> tuple[str, int]:
    if not rest:
        return "127.0.0.1", DEFAULT_SC_PORT
    host, _, port = rest.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536 or not host:
        raise UserError(f"'sc:{rest}': write sc, or sc:HOST:PORT (e.g. sc:127.0.0.1:{DEFAULT_SC_PORT})")
    return host, int(port)


def _glicol(rest: str, options: LiveOptions) -> Output:
    from ensemble.glicol.soundcard import GlicolAudioOutput

    return GlicolAudioOutput()


def _sc(rest: str, options: LiveOptions) -> Output:
    from ensemble.supercollider.server_output import SuperColliderOutput

    host, port = _sc_address(rest)
    return SuperColliderOutput(host, port, options.sc_latency)


def _midi(rest: str, options: LiveOptions) -> Output:
    from ensemble.midi.port_output import MidiOutput

    return MidiOutput(rest or None, options.midi_backend, options.midi_clock)


KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    Kind("glicol", ("glicol",), "the sound card, through the embedded Glicol engine (default)", _no_detail,
         _glicol),
    Kind("sc", ("sc", "sc:HOST:PORT"), f"a SuperCollider server (default 127.0.0.1:{DEFAULT_SC_PORT})",
         _sc_address, _sc),
    Kind("midi", ("midi", "midi:PORT"), "MIDI: a port of our own, or a port by (a unique part of) its name",
         lambda rest: None, _midi),
)}
FORMS = tuple(form for kind in KINDS.values() for form in kind.forms)


def _kind(spec: str) -> tuple[Kind, str]:
    name, _, rest = spec.partition(":")
    kind = KINDS.get(name)
    if kind is None:
        close = nearest(name, KINDS)
        suggestion = f"did you mean '{close}'? " if close else ""
        raise UserError(f"unknown output '{spec}' ({suggestion}outputs: {', '.join(FORMS)})")
    return kind, rest


def check_spec(spec: str) -> None:
    """Refuse a destination that cannot be right, without opening anything."""
    kind, rest = _kind(spec)
    kind.check(rest)


def make_output(spec: str, options: LiveOptions = LiveOptions()) -> Output:
    kind, rest = _kind(spec)
    kind.check(rest)
    return kind.make(rest, options)


def kind_of(spec: str) -> str:
    """`sc:127.0.0.1:57110` -> `sc`: the name an output plays under."""
    return spec.partition(":")[0]


def help_text() -> str:
    return "; ".join(f"{' or '.join(kind.forms)}: {kind.help}" for kind in KINDS.values())

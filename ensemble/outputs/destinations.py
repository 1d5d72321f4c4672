"""`--to` destinations: `glicol`, `sc`, `sc:HOST:PORT`, `midi`, `midi:PORT` -> output objects."""

from __future__ import annotations

from ensemble.errors import UserError
from ensemble.outputs.base import Output


def parse_output(spec: str, sc_latency: float | None = None, midi_backend: str | None = None,
                 midi_clock: bool = False) -> Output:
    kind, _, rest = spec.partition(":")
    if kind == "glicol" and not rest:
        from ensemble.glicol.soundcard import GlicolAudioOutput

        return GlicolAudioOutput()
    if kind == "sc":
        from ensemble.supercollider.server_output import DEFAULT_LATENCY, DEFAULT_PORT, SuperColliderOutput

        latency = DEFAULT_LATENCY if sc_latency is None else sc_latency
        if not rest:
            return SuperColliderOutput(latency=latency)
        host, _, port = rest.rpartition(":")
        if not port.isdigit() or not 0 < int(port) < 65536 or not host:
            raise UserError(f"'{spec}': write sc, or sc:HOST:PORT (e.g. sc:127.0.0.1:{DEFAULT_PORT})")
        return SuperColliderOutput(host, int(port), latency)
    if kind == "midi":
        from ensemble.midi.port_output import MidiOutput

        return MidiOutput(rest or None, midi_backend, midi_clock)
    raise UserError(f"unknown output '{spec}' (outputs: glicol, sc, sc:HOST:PORT, midi, midi:PORT)")

"""A small UGen-graph builder and its encoder to the SCgf version 2 (.scsyndef) binary format.

The format is the SuperCollider reference page "Synth Definition File Format": big-endian,
packed. A graph is built in order, so every input refers to an earlier UGen and the UGen list
is already in the topological order the server runs it in. Constants are numbered in order of
first use, which makes the bytes a pure function of the graph.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

FILE_ID = b"SCgf"
FILE_VERSION = 2


class Rate(IntEnum):
    SCALAR = 0
    CONTROL = 1
    AUDIO = 2


@dataclass(frozen=True)
class Signal:
    """One output of a UGen in a graph, usable as an input of a later UGen."""

    ugen: int
    output: int
    rate: Rate


Input = float | Signal  # a constant or a UGen output


@dataclass(frozen=True)
class UGen:
    name: str  # the server's UGen class name
    rate: Rate
    inputs: tuple[Input, ...]
    outputs: tuple[Rate, ...]
    special: int = 0  # e.g. the operator of a BinaryOpUGen


def rate_of(*inputs: Input) -> Rate:
    """The fastest rate among the inputs (a constant is scalar)."""
    return max((i.rate for i in inputs if isinstance(i, Signal)), default=Rate.SCALAR)


class SynthDef:
    """A named UGen graph with named parameters (one control-rate Control UGen)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.ugens: list[UGen] = []
        self.parameters: dict[str, float] = {}  # name -> default, in index order

    def params(self, **defaults: float) -> dict[str, Signal]:
        """Declares the parameters, once; returns each one's signal by name."""
        if self.parameters:
            raise ValueError(f"{self.name}: parameters are declared once, in one Control UGen")
        self.parameters = {name: float(value) for name, value in defaults.items()}
        outputs = self.ugen("Control", Rate.CONTROL, outputs=len(defaults))
        return dict(zip(self.parameters, outputs, strict=True))

    def ugen(
        self, name: str, rate: Rate, *inputs: Input, outputs: int = 1, special: int = 0
    ) -> tuple[Signal, ...]:
        """Appends a UGen whose outputs all run at its own rate; returns its outputs."""
        for source in inputs:
            if isinstance(source, Signal) and not (
                source.ugen < len(self.ugens) and source.output < len(self.ugens[source.ugen].outputs)
            ):
                raise ValueError(f"{self.name}: {name} takes {source}, which is not in this graph")
        index = len(self.ugens)
        self.ugens.append(UGen(name, rate, tuple(inputs), (rate,) * outputs, special))
        return tuple(Signal(index, output, rate) for output in range(outputs))

    def constants(self) -> list[float]:
        """Every constant input, in order of first use (compared as the float32 sent)."""
        seen: dict[bytes, float] = {}
        for ugen in self.ugens:
            for source in ugen.inputs:
                if not isinstance(source, Signal):
                    seen.setdefault(struct.pack(">f", source), float(source))
        return list(seen.values())

    def encode(self) -> bytes:
        """This definition alone (a `synth-definition` of the format)."""
        constants = self.constants()
        constant_index = {struct.pack(">f", value): index for index, value in enumerate(constants)}
        out = [_pstring(self.name)]
        out.append(struct.pack(f">i{len(constants)}f", len(constants), *constants))
        defaults = list(self.parameters.values())
        out.append(struct.pack(f">i{len(defaults)}f", len(defaults), *defaults))
        out.append(struct.pack(">i", len(defaults)))
        for index, name in enumerate(self.parameters):
            out.append(_pstring(name) + struct.pack(">i", index))
        out.append(struct.pack(">i", len(self.ugens)))
        for ugen in self.ugens:
            out.append(_pstring(ugen.name))
            out.append(struct.pack(">biih", ugen.rate, len(ugen.inputs), len(ugen.outputs), ugen.special))
            for source in ugen.inputs:
                if isinstance(source, Signal):
                    out.append(struct.pack(">ii", source.ugen, source.output))
                else:
                    out.append(struct.pack(">ii", -1, constant_index[struct.pack(">f", source)]))
            out.append(bytes(ugen.outputs))
        out.append(struct.pack(">h", 0))  # no variants
        return b"".join(out)


def encode_file(defs: Iterable[SynthDef]) -> bytes:
    """A whole .scsyndef file: the bytes for a file on disk or for `/d_recv`."""
    bodies = [synthdef.encode() for synthdef in defs]
    return FILE_ID + struct.pack(">ih", FILE_VERSION, len(bodies)) + b"".join(bodies)


def _pstring(text: str) -> bytes:
    data = text.encode("ascii")
    if len(data) > 255:
        raise ValueError(f"name too long for the format (255 bytes at most): {text!r}")
    return bytes([len(data)]) + data


# The UGens the voices use, one line each; the input order is the server's, which is that
# of the sclang class's `*ar`/`*kr` arguments unless noted.


def saw(d: SynthDef, freq: Input) -> Signal:
    return d.ugen("Saw", Rate.AUDIO, freq)[0]


def pulse(d: SynthDef, freq: Input, width: Input = 0.5) -> Signal:
    return d.ugen("Pulse", Rate.AUDIO, freq, width)[0]


def lf_tri(d: SynthDef, freq: Input, phase: Input = 0.0) -> Signal:
    return d.ugen("LFTri", Rate.AUDIO, freq, phase)[0]


def lpf(d: SynthDef, source: Input, freq: Input) -> Signal:
    return d.ugen("LPF", Rate.AUDIO, source, freq)[0]


def mul(d: SynthDef, a: Input, b: Input) -> Signal:
    return d.ugen("BinaryOpUGen", rate_of(a, b), a, b, special=2)[0]  # special 2 is '*'


def env_gen(d: SynthDef, envelope: list[Input], done_action: int = 0, gate: Input = 1.0) -> Signal:
    # The server wants gate, levelScale, levelBias, timeScale, doneAction, then the envelope.
    return d.ugen("EnvGen", Rate.CONTROL, gate, 1.0, 0.0, 1.0, done_action, *envelope)[0]


def pan2(d: SynthDef, source: Input, pos: Input, level: Input = 1.0) -> tuple[Signal, Signal]:
    left, right = d.ugen("Pan2", Rate.AUDIO, source, pos, level, outputs=2)
    return left, right


def out(d: SynthDef, bus: Input, *channels: Input) -> None:
    d.ugen("Out", Rate.AUDIO, bus, *channels, outputs=0)


def in_(d: SynthDef, bus: Input, channels: int) -> tuple[Signal, ...]:
    return d.ugen("In", Rate.AUDIO, bus, outputs=channels)  # sclang's numChannels is not an input


def disk_out(d: SynthDef, bufnum: Input, *channels: Input) -> Signal:
    return d.ugen("DiskOut", Rate.AUDIO, bufnum, *channels)[0]  # outputs the frames written


CURVE_SHAPE = 5  # Env's shape number for a numeric curve


def perc(attack: Input, release: Input, level: Input = 1.0, curve: float = -4.0) -> list[Input]:
    """Env.perc as EnvGen's envelope array: levels [0, level, 0], times [attack, release]."""
    no_node = -99.0
    return [0.0, 2.0, no_node, no_node,
            level, attack, CURVE_SHAPE, curve,
            0.0, release, CURVE_SHAPE, curve]  # fmt: skip

"""The SCgf v2 encoder, byte for byte, and the checked-in .scsyndef files against their source."""

from pathlib import Path

import pytest

from ensemble.supercollider.synthdef import (
    Rate,
    Signal,
    SynthDef,
    encode_file,
    mul,
    out,
    saw,
)
from ensemble.supercollider.voices import VOICE_PARAMS, synthdef_bytes, synthdefs

PATCHES = Path(__file__).resolve().parents[2] / "patches" / "supercollider"


def tiny() -> SynthDef:
    d = SynthDef("t")
    amp = d.params(amp=0.5)["amp"]
    out(d, 0.0, mul(d, saw(d, 440.0), amp))
    return d


def test_a_small_graph_encodes_to_the_bytes_the_format_specifies():
    expected = bytes.fromhex(
        "53436766"  # "SCgf"
        "00000002"  # version 2
        "0001"  # one definition
        "01 74"  # pstring "t"
        "00000002 43dc0000 00000000"  # constants 440.0, 0.0 (in order of first use)
        "00000001 3f000000"  # one parameter, default 0.5
        "00000001 03 616d70 00000000"  # its name "amp", index 0
        "00000004"  # four UGens
        "07 436f6e74726f6c 01 00000000 00000001 0000 01"  # Control kr, 0 in, 1 out (kr)
        "03 536177 02 00000001 00000001 0000 ffffffff00000000 02"  # Saw ar (const 0)
        "0c 42696e6172794f705547656e 02 00000002 00000001 0002"  # BinaryOpUGen ar, special 2 '*'
        "  0000000100000000 0000000000000000 02"  # inputs Saw[0], Control[0]; out ar
        "03 4f7574 02 00000002 00000000 0000 ffffffff00000001 0000000200000000"  # Out ar (const 1, '*')
        "0000"  # no variants
    )
    assert encode_file([tiny()]) == expected


def test_encoding_is_deterministic_and_constants_are_shared():
    d = tiny()
    assert encode_file([d]) == encode_file([tiny()])
    assert d.constants() == [440.0, 0.0]


def test_rates_follow_the_fastest_input():
    d = SynthDef("r")
    control = d.params(x=1.0)["x"]
    assert mul(d, control, 2.0).rate is Rate.CONTROL
    assert mul(d, saw(d, control), control).rate is Rate.AUDIO


def test_bad_graphs_are_refused():
    d = SynthDef("bad")
    d.params(a=1.0)
    with pytest.raises(ValueError, match="once"):
        d.params(b=1.0)
    with pytest.raises(ValueError, match="not in this graph"):
        saw(d, Signal(5, 0, Rate.AUDIO))
    with pytest.raises(ValueError, match="too long"):
        encode_file([SynthDef("x" * 256)])


def test_voices_have_the_documented_envelope():
    square = next(d for d in synthdefs() if d.name == "ensemble_square")
    params = dict(zip(VOICE_PARAMS, (Signal(0, i, Rate.CONTROL) for i in range(6)), strict=True))
    assert square.parameters == VOICE_PARAMS
    (env_gen,) = (u for u in square.ugens if u.name == "EnvGen")
    assert env_gen.rate is Rate.CONTROL
    assert env_gen.inputs == (
        1.0, 1.0, 0.0, 1.0, 2,  # gate, levelScale, levelBias, timeScale, doneAction
        0.0, 2.0, -99.0, -99.0,  # initial level, stages, no release node, no loop node
        1.0, params["attack"], 5, -4.0,
        0.0, params["release"], 5, -4.0,
    )  # fmt: skip
    (oscillator,) = (u for u in square.ugens if u.name == "Pulse")
    assert oscillator.inputs == (params["freq"], 0.5)


def test_checked_in_synthdefs_are_what_voices_py_builds():
    """Regenerate with `python -m ensemble.supercollider.build` when this fails."""
    built = synthdef_bytes()
    assert set(built) == {"ensemble_saw", "ensemble_square", "ensemble_tri", "ensemble_recorder"}
    for name, data in built.items():
        assert (PATCHES / f"{name}.scsyndef").read_bytes() == data, name
        source = (PATCHES / f"{name}.scd").read_text()
        assert "python -m ensemble.supercollider.build" in source
        assert f"SynthDef(\\{name}," in source

"""The SynthDefs ensemble plays on scsynth, built in Python (no sclang), with their sclang twins.

Each voice is a percussive note that frees itself (doneAction 2), so a note is one `/s_new`
with `freq` and `amp`, and nothing has to be released. `ensemble_recorder` writes the
server's two output channels to a buffer opened with `/b_write`.
"""

from __future__ import annotations

from collections.abc import Callable

from ensemble.supercollider.synthdef import (
    Input,
    Signal,
    SynthDef,
    disk_out,
    encode_file,
    env_gen,
    in_,
    lf_tri,
    lpf,
    mul,
    out,
    pan2,
    perc,
    pulse,
    saw,
)

VOICE_PARAMS = {"freq": 440.0, "amp": 0.1, "pan": 0.0, "attack": 0.005, "release": 0.3, "cutoff": 2400.0}
DONE_FREE_SELF = 2

# name -> (the oscillator in Python, the same in sclang)
OSCILLATORS: dict[str, tuple[Callable[[SynthDef, Input], Signal], str]] = {
    "ensemble_saw": (saw, "Saw.ar(freq)"),
    "ensemble_square": (lambda d, freq: pulse(d, freq, 0.5), "Pulse.ar(freq, 0.5)"),
    "ensemble_tri": (lf_tri, "LFTri.ar(freq)"),
}


def voice(name: str) -> SynthDef:
    """oscillator -> LPF(cutoff) -> * Env.perc(attack, release) -> * amp -> Pan2(pan) -> Out 0."""
    d = SynthDef(name)
    p = d.params(**VOICE_PARAMS)
    oscillator = OSCILLATORS[name][0]
    tone = lpf(d, oscillator(d, p["freq"]), p["cutoff"])
    envelope = env_gen(d, perc(p["attack"], p["release"]), done_action=DONE_FREE_SELF)
    left, right = pan2(d, mul(d, mul(d, tone, envelope), p["amp"]), p["pan"])
    out(d, 0.0, left, right)
    return d


def recorder() -> SynthDef:
    """DiskOut of audio buses 0 and 1 (the server's output) into buffer `bufnum`."""
    d = SynthDef("ensemble_recorder")
    p = d.params(bufnum=0.0)
    disk_out(d, p["bufnum"], *in_(d, 0.0, 2))
    return d


def synthdefs() -> list[SynthDef]:
    return [*(voice(name) for name in OSCILLATORS), recorder()]


def synthdef_bytes() -> dict[str, bytes]:
    """Each SynthDef as the bytes of its own .scsyndef file, ready for `/d_recv`."""
    return {d.name: encode_file([d]) for d in synthdefs()}


RECORDER_SCLANG = """\
SynthDef(\\ensemble_recorder, { |bufnum = 0|
    DiskOut.ar(bufnum, In.ar(0, 2));
}).add;
"""

VOICE_SCLANG = """\
SynthDef(\\{name}, {{ |{params}|
    var sig = LPF.ar({oscillator}, cutoff);
    sig = sig * EnvGen.kr(Env.perc(attack, release, 1, -4), doneAction: {done});
    Out.ar(0, Pan2.ar(sig * amp, pan));
}}).add;
"""


def sclang_source(name: str) -> str:
    """The same graph in sclang syntax, for reading and for use from sclang."""
    if name == "ensemble_recorder":
        return RECORDER_SCLANG
    params = ", ".join(f"{key} = {value:g}" for key, value in VOICE_PARAMS.items())
    return VOICE_SCLANG.format(name=name, params=params, oscillator=OSCILLATORS[name][1], done=DONE_FREE_SELF)

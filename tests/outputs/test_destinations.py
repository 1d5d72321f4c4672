"""The one table of destinations: what `--to` and `out add` accept, and what they make (unopened)."""

import pytest

from ensemble.errors import UserError
from ensemble.glicol.soundcard import GlicolAudioOutput
from ensemble.midi.port_output import MidiOutput
from ensemble.outputs.destinations import FORMS, LiveOptions, check_spec, help_text, kind_of, make_output
from ensemble.supercollider.server_output import SuperColliderOutput


@pytest.mark.parametrize(("spec", "kind", "host", "port"), [
    ("sc", SuperColliderOutput, "127.0.0.1", 57110),
    ("sc:127.0.0.1:57999", SuperColliderOutput, "127.0.0.1", 57999),
    ("sc:localhost:57111", SuperColliderOutput, "localhost", 57111),
])
def test_sc_destinations_make_an_output_for_that_server(spec, kind, host, port):
    output = make_output(spec, LiveOptions(sc_latency=0.2))
    assert isinstance(output, kind) and (output.host, output.port, output.latency) == (host, port, 0.2)


def test_glicol_and_midi_destinations():
    assert isinstance(make_output("glicol"), GlicolAudioOutput)
    midi = make_output("midi:synth", LiveOptions(midi_backend="jack", midi_clock=True))
    assert isinstance(midi, MidiOutput)
    assert (midi.port_wanted, midi.backend_name, midi.clock_out) == ("synth", "jack", True)
    assert make_output("midi").port_wanted is None  # a port of our own


@pytest.mark.parametrize(("spec", "message"), [
    ("sc:127.0.0.1:notaport", "write sc, or sc:HOST:PORT"),
    ("sc:57110", "write sc, or sc:HOST:PORT"),
    ("scc", r"unknown output 'scc' \(did you mean 'sc'\? outputs: glicol, sc, sc:HOST:PORT, midi"),
    ("tape", r"unknown output 'tape' \(outputs: glicol"),
    ("glicol:2", "glicol takes nothing after it"),
])
def test_a_bad_destination_says_how_to_write_one(spec, message):
    with pytest.raises(UserError, match=message):
        check_spec(spec)
    with pytest.raises(UserError, match=message):
        make_output(spec)


def test_one_table_feeds_help_forms_and_names():
    assert FORMS == ("glicol", "sc", "sc:HOST:PORT", "midi", "midi:PORT")
    assert all(form in help_text() for form in FORMS)
    assert kind_of("sc:127.0.0.1:57110") == "sc" and kind_of("midi") == "midi"

"""The MIDI output over real JACK MIDI (jackd, dummy driver): what a synth on the port receives."""

import os
import subprocess
import sys
import threading
import time

import mido
import pytest
from support.jack_midi import Synth
from support.listener import Listener
from support.messages import captured
from support.waiting import join, perform

from ensemble.clock import RealtimeClock
from ensemble.conductor import Conductor
from ensemble.events import Part, Phrase
from ensemble.midi.port_output import MidiOutput
from ensemble.performance.script import parse_script
from ensemble.performance.sources import script_source
from ensemble.session import Session

SCRIPT = """tempo 140
step 0.5
seed C4 E4 G4 _
spawn 3
set a2 channel=10 program=40
wait {phrases}
"""
ON_TIME = 0.009  # seconds: arrival against due time; JACK delivers MIDI on its next period (5.8 ms
# here), and the test's reader polls every 0.5 ms


@pytest.fixture
def jack_midi(jack, monkeypatch):
    """The JACK server for rtmidi's JACK API (it finds the server through the environment)."""
    for key in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER"):
        monkeypatch.setenv(key, jack.env[key])
    return mido.Backend("mido.backends.rtmidi/UNIX_JACK")


def _perform(midi, phrases, during=None, lookahead=0.1):
    session = Session(seed=0)
    listener = Listener()
    lines = parse_script(SCRIPT.format(phrases=phrases))
    conductor = Conductor(script_source(lines, 0, "test").play(session), session.tempo, [midi, listener],
                          RealtimeClock(), lookahead=lookahead)
    with captured() as messages:
        perform(conductor, during)
    return listener.notes, messages


def test_every_note_arrives_on_its_agents_channel_on_time_with_its_note_off(jack_midi):
    synth = Synth()
    notes, _ = _perform(MidiOutput("synth", "jack"), phrases=3)
    synth.close()
    ons, offs = synth.of_type("note_on"), synth.of_type("note_off")
    assert len(ons) == len(offs) == len(notes) > 0
    in_order = sorted(notes, key=lambda n: (n.due, n.event.agent))
    for note, (arrived, message) in zip(in_order, ons, strict=True):
        assert (message.channel, message.note) == (note.event.sound.channel - 1, note.event.note)
        assert abs(arrived - note.due) < ON_TIME
    assert {message.channel for _, message in ons} == {0, 1, 9}  # a0 on 1, a1 on 2, a2 on 10
    for arrived, on in ons:  # each note_on is ended, later, on its channel
        assert any(o.channel == on.channel and o.note == on.note and at > arrived for at, o in offs)
    programs = synth.of_type("program_change")
    assert [(m.channel, m.program) for _, m in programs] == [(9, 40)]


def test_midi_clock_follows_the_tempo(jack, jack_midi):
    synth = Synth()
    log_from = jack.log_position()
    _perform(MidiOutput("synth", "jack", clock_out=True), phrases=2)
    synth.close()
    kinds = [message.type for _, message in synth.received if message.type in ("start", "clock", "stop")]
    assert kinds[0] == "start" and kinds[-1] == "stop"
    pulses = [at for at, message in synth.received if message.type == "clock"]
    # Two phrases of two beats, 24 pulses a beat. The test's jackd is not realtime and drops a
    # MIDI event now and then when it misses a cycle (README, MIDI timing): one per xrun it logs.
    xruns = jack.xruns_since(log_from)
    assert 2 * 2 * 24 - min(xruns, 2) <= len(pulses) <= 2 * 2 * 24
    spacing = (pulses[-1] - pulses[0]) / (len(pulses) - 1)
    assert abs(spacing - 60 / 140 / 24) < 0.0005


def test_midi_clock_out_takes_a_tempo_changed_mid_phrase_from_the_rest_of_the_phrase(jack, jack_midi):
    """A followed tempo changes mid-phrase (120 -> 60 bpm from beat 2): the pulses still queued
    are dropped and the rest of the phrase's are sent at the new tempo."""
    synth = Synth()
    output = MidiOutput("synth", "jack", clock_out=True)
    clock = RealtimeClock()
    output.open(clock)
    phrase = Phrase(0, 0.0, 0.5, 120.0, (Part("a0", (60, 62, 64, 65, 67, 69, 71, 72)),), 8)  # 4 beats
    start = clock.now() + 0.1
    output.phrase(phrase, start)
    rest = phrase.rest_from(2.0, 60.0)
    assert rest is not None
    output.retime(rest, start + 1.0)  # beat 2 at 120 bpm
    time.sleep(3.3)
    output.close()
    synth.close()
    pulses = [at - start for at, message in synth.received if message.type == "clock"]
    before = [at for at in pulses if at < 0.99]
    after = [at for at in pulses if at >= 0.99]
    assert 46 <= len(before) <= 48 and 46 <= len(after) <= 48  # two beats each, an xrun may drop one
    assert abs((before[-1] - before[0]) / (len(before) - 1) - 0.5 / 24) < 0.0005
    assert abs((after[-1] - after[0]) / (len(after) - 1) - 1.0 / 24) < 0.0005
    assert after[-1] < 3.0  # nothing of the old tempo's pulses after beat 2


def test_without_a_port_name_it_offers_its_own_port(jack_midi):
    midi = MidiOutput(None, "jack")
    notes = []

    def connect_and_listen(conductor):
        time.sleep(0.3)
        notes.append(Synth(connect_to="ensemble:ensemble"))

    played, _ = _perform(midi, phrases=3, during=connect_and_listen)
    synth = notes[0]
    synth.close()
    assert synth.of_type("note_on") and len(synth.of_type("note_on")) <= len(played)


def test_a_port_that_vanishes_does_not_stop_the_performance(jack_midi):
    synth = Synth()
    later = {}

    def unplug_and_replug(conductor):
        time.sleep(1.0)
        synth.close()
        time.sleep(2.5)
        later["synth"] = Synth()

    notes, messages = _perform(MidiOutput("synth", "jack"), phrases=8, during=unplug_and_replug)
    later["synth"].close()
    assert notes[-1].event.start >= 7 * 2  # every phrase was played
    assert any("went away" in m for m in messages) and any("is back" in m for m in messages)
    assert later["synth"].of_type("note_on")  # and the notes came back


def test_an_unknown_port_is_named_with_the_list_and_the_performance_goes_on(jack_midi):
    synth = Synth()
    notes, messages = _perform(MidiOutput("nosuch", "jack"), phrases=1)
    synth.close()
    assert notes
    assert "midi: no output port 'nosuch' (ports: synth:synth); playing on, and waiting for it" in messages


def test_stopping_mid_phrase_leaves_no_note_hanging(jack_midi):
    synth = Synth()

    def stop_soon(conductor):
        time.sleep(0.9)
        conductor.stop()

    _perform(MidiOutput("synth", "jack"), phrases=10, during=stop_soon, lookahead=0.4)
    synth.close()
    sounding = set()
    for _, message in synth.received:
        if message.type == "note_on":
            sounding.add((message.channel, message.note))
        elif message.type == "note_off":
            sounding.discard((message.channel, message.note))
        elif message.type == "control_change" and message.control == 123:
            sounding = {(c, n) for c, n in sounding if c != message.channel}
    assert sounding == set()


def test_midi_ports_lists_the_ports(jack, jack_midi):
    synth = Synth()
    result = subprocess.run([sys.executable, "-m", "ensemble", "midi", "ports", "--midi-backend", "jack"],
                            env=jack.env, capture_output=True, text=True, timeout=60, check=False)
    synth.close()
    assert result.returncode == 0 and "synth:synth" in result.stdout.splitlines()


@pytest.mark.skipif(os.path.exists("/dev/snd/seq"), reason="this machine has an ALSA sequencer")
def test_without_a_midi_system_it_is_one_line(tmp_path):
    (tmp_path / "s.ens").write_text("spawn 1\nwait 1\n")
    result = subprocess.run([sys.executable, "-m", "ensemble", "play", "s.ens", "--to", "midi"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("midi: no MIDI system here") and "--midi-backend jack" in lines[0]
    assert lines[-1] == "ensemble: no output could be opened; nothing to play on"


def test_a_muted_agents_channel_gets_all_notes_off_at_the_boundary(jack_midi):
    from ensemble import commands as cmd

    synth = Synth()
    session = Session(seed=0)
    session.submit(cmd.Spawn(2))
    phrases = [session.next_phrase()]
    session.submit(cmd.Mute("a1"))
    phrases.append(session.next_phrase())
    midi = MidiOutput("synth", "jack")
    Conductor(iter(phrases), session.tempo, [midi], RealtimeClock(), lookahead=0.1).run()
    synth.close()
    resets = [m for _, m in synth.received if m.type == "control_change" and m.control == 123]
    assert resets and resets[0].channel == 1  # a1 plays on channel 2


def test_a_mute_is_heard_within_the_lookahead_and_ends_the_agents_sounding_notes(jack_midi):
    from ensemble import commands as cmd
    from ensemble.performance.runner import Runner

    synth = Synth()
    script = "tempo 60\nstep 1\nseed C4 E4 G4 C5\nspawn 2\nset all rests=off\nwait 3\n"  # 1 s steps
    runner = Runner(script_source(parse_script(script), 0, "test"), [MidiOutput("synth", "jack")],
                    RealtimeClock(), lookahead=0.1, ear=None)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    time.sleep(0.5)
    while runner.conductor.phrases_played < 1:  # well into the second phrase, a1's note sounding
        time.sleep(0.01)
    time.sleep(1.3)
    muted_at = time.monotonic()
    assert runner.session.apply_now(cmd.Mute("a1"))
    join(thread, 30, "the performance")
    time.sleep(0.1)
    synth.close()
    a1 = 1  # a1 plays on channel 2
    later_ons = [at for at, m in synth.of_type("note_on") if m.channel == a1 and at > muted_at + 0.1 + 0.01]
    assert later_ons == []  # nothing of a1's is heard after the lookahead
    stops = [at for at, m in synth.received if m.channel == a1 and m.type == "control_change"
             and m.control == 123 and at > muted_at]
    assert stops and stops[0] - muted_at < 0.1 + 0.03  # its sounding note ended, within the lookahead
    assert any(m.channel == 0 and at > muted_at + 0.2 for at, m in synth.of_type("note_on"))  # a0 plays on

"""The SuperCollider output against a real scsynth: heard, on time, and robust to crashes."""

import re
import threading
import time

import numpy as np
import pytest
from audio_analysis import dominant_midi, read_wav
from listener import Listener
from services import ServerRecording

from ensemble.clock import RealtimeClock
from ensemble.conductor import Conductor
from ensemble.outputs.scconnection import GROUP
from ensemble.outputs.supercollider import SuperColliderOutput
from ensemble.script import parse_script, script_phrases
from ensemble.session import Session
from ensemble.supercollider.voices import synthdef_bytes

# One agent, steps of 0.25 s with a rest after every note, so each onset stands alone.
SCRIPT = """tempo {tempo}
step 0.5
seed C4 _ E4 _ G4 _ A4 _
set all palette=major:C4-C5 epsilon=0 alpha=1 voice=square
spawn 1
wait {phrases}
"""




def _perform(sc, phrases, lookahead=0.1, during=None, tempo=120):
    messages = []
    session = Session(seed=0)
    listener = Listener()
    clock = RealtimeClock()
    phrases_played = script_phrases(parse_script(SCRIPT.format(phrases=phrases, tempo=tempo)), session)
    conductor = Conductor(phrases_played, session.tempo, [sc, listener], clock, lookahead=lookahead,
                          on_message=messages.append)
    thread = threading.Thread(target=conductor.run)
    thread.start()
    if during:
        during(conductor)
    thread.join(timeout=120)
    return listener.notes, messages, clock


def _server_lateness(jack, log_from):
    """Seconds by which the test's jackd (not realtime) woke up late, by its own log, since then.

    Each time, the server's sample clock falls behind the wall clock that time tags use, and
    every later note lands that much later in a recording of the server.
    """
    text = jack.log.read_text(errors="replace")[log_from:]
    return sum(int(usec) for usec in re.findall(r"JackTimedDriver::Process XRun = (\d+) usec", text)) / 1e6


def test_the_server_plays_every_note_at_its_pitch_and_time(jack, scsynth, tmp_path):
    sc = SuperColliderOutput(port=scsynth.port)
    log_from = jack.log.stat().st_size
    with ServerRecording(scsynth, tmp_path / "heard.wav", synthdef_bytes()["ensemble_recorder"]) as recording:
        notes, messages, clock = _perform(sc, phrases=3)
    audio, rate = read_wav(tmp_path / "heard.wav")
    tolerance = 0.004 + _server_lateness(jack, log_from)  # 4 ms: the server runs 64-frame blocks
    assert len(notes) >= 12 and sc.sent == len(notes) and sc.dropped == 0
    alone = 0
    for previous, note in zip([None, *notes], notes, strict=False):
        at = round((clock.unix(note.due) + sc.latency - recording.started_at) * rate)
        assert round(dominant_midi(audio[at + 400: at + 6000], rate)) == note.event.note
        if previous is not None and note.due - previous.due < 0.4:
            continue  # a note right before it may still be ringing: time only the ones that stand alone
        envelope = np.abs(audio[at - 2000: at + 2000])
        onset = np.flatnonzero(envelope > 0.1 * envelope.max())[0] - 2000
        assert abs(onset) < tolerance * rate, f"{onset / rate * 1000:.1f} ms from its time tag"
        alone += 1
    assert alone >= 3
    assert any("connected to the server" in m for m in messages)


def test_the_performance_survives_the_server_dying_and_coming_back(scsynth):
    sc = SuperColliderOutput(port=scsynth.port)
    back = {}

    def crash_and_restart(conductor):
        time.sleep(1.5)
        scsynth.stop()
        time.sleep(2.5)  # long enough to be noticed
        scsynth.start()
        with scsynth.client() as watcher:  # a second client sees our synths start again
            watcher.send("/notify", 1)
            watcher.wait_for("/done", "/notify")
            deadline = time.monotonic() + 5.0
            while "node" not in back and time.monotonic() < deadline:
                node = watcher.wait_for("/n_go", timeout=5.0).params  # node, parent, ...
                if node[1] == GROUP:
                    back["node"] = node

    notes, messages, _ = _perform(sc, phrases=10, during=crash_and_restart, tempo=240)
    assert notes[-1].event.start >= 9 * 4  # the last phrase was played: nothing stopped
    assert sc.dropped > 0 and sc.sent + sc.dropped == len(notes)
    assert "node" in back  # a synth of ours, in our group, on the new server
    assert any("lost the server" in m for m in messages) and any("back on the server" in m for m in messages)


def test_nothing_is_left_sounding_when_the_performance_stops(scsynth):
    sc = SuperColliderOutput(port=scsynth.port)

    def stop_mid_phrase(conductor):
        time.sleep(1.6)
        conductor.stop()

    _perform(sc, phrases=20, lookahead=0.5, during=stop_mid_phrase)
    time.sleep(0.8)  # past every time tag that had been sent
    with scsynth.client() as client:
        client.send("/status")
        assert client.wait_for("/status.reply").params[2] == 0  # no synths at all


def test_no_server_at_all_is_one_message_and_the_rest_plays(tmp_path):
    from services import free_udp_port

    sc = SuperColliderOutput(port=free_udp_port())
    notes, messages, _ = _perform(sc, phrases=2)
    assert notes and sc.sent == 0 and sc.dropped == len(notes)
    assert [m for m in messages if m.startswith("sc:")] == [
        f"sc: no server at 127.0.0.1:{sc.port} yet; playing on, and joining when it answers"]


@pytest.mark.parametrize("spec", ["sc", "sc:127.0.0.1:57999"])
def test_output_specs(spec):
    from ensemble.outputs.spec import parse_output

    output = parse_output(spec)
    assert isinstance(output, SuperColliderOutput) and output.host == "127.0.0.1"


def test_an_output_spec_with_a_bad_port_says_how_to_write_it():
    from ensemble.errors import UserError
    from ensemble.outputs.spec import parse_output

    with pytest.raises(UserError, match="write sc, or sc:HOST:PORT"):
        parse_output("sc:127.0.0.1:notaport")
    with pytest.raises(UserError, match="unknown output 'scc'"):
        parse_output("scc")
    assert parse_output("sc:localhost:57111", sc_latency=0.2).latency == 0.2

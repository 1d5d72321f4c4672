"""The SuperCollider output against a real scsynth: heard, on time, and robust to crashes."""

import struct
import threading
import time
from dataclasses import dataclass

import numpy as np
from support.audio_analysis import dominant_midi, read_wav
from support.listener import Listener
from support.messages import captured
from support.services import ServerRecording
from support.waiting import join

from ensemble.clock import RealtimeClock
from ensemble.conductor import Conductor
from ensemble.performance.script import parse_script
from ensemble.performance.sources import script_source
from ensemble.session import Session
from ensemble.supercollider.connection import GROUP
from ensemble.supercollider.server_output import SuperColliderOutput
from ensemble.supercollider.voices import synthdef_bytes

NTP_TO_UNIX = 2208988800  # seconds from 1900 to 1970

# One agent, steps of 0.25 s with a rest after every note, so each onset stands alone.
SCRIPT = """tempo {tempo}
step 0.5
seed C4 _ E4 _ G4 _ A4 _
set all palette=major:C4-C5 epsilon=0 alpha=1 voice=square
spawn 1
wait {phrases}
"""




def _perform(sc, phrases, lookahead=0.1, during=None, tempo=120):
    session = Session(seed=0)
    listener = Listener()
    clock = RealtimeClock()
    script = parse_script(SCRIPT.format(phrases=phrases, tempo=tempo))
    phrases_played = script_source(script, 0, "test").play(session)
    conductor = Conductor(phrases_played, session.tempo, [sc, listener], clock, lookahead=lookahead)
    with captured() as messages:
        thread = threading.Thread(target=conductor.run, daemon=True)  # a hung one must not hold pytest
        thread.start()
        if during:
            during(conductor)
        join(thread, 120, "the performance")
    return listener.notes, messages, clock


@dataclass
class Take:
    """One performance played to scsynth and recorded there."""

    sc: SuperColliderOutput
    notes: list
    messages: list
    clock: RealtimeClock
    started_at: float  # Unix time of the recording's first sample
    audio: np.ndarray
    rate: int
    pace: float  # samples recorded per second of wall clock, over the rate: 1 when the server kept time
    slipped: float  # seconds the server logged losing meanwhile


def _recorded_performance(jack, scsynth, path):
    """Three phrases played to scsynth and recorded there.

    A few times in a dozen runs on these machines the test's (non-realtime) jackd lost a tenth
    of a second or more: the pace shows it, and such a recording cannot be laid on the wall clock.
    """
    sc = SuperColliderOutput(port=scsynth.port)
    time.sleep(2.0)  # a fresh scsynth's mapping of OSC time to samples settles in its first seconds
    log_from = jack.log_position()
    with ServerRecording(scsynth, path, synthdef_bytes()["ensemble_recorder"]) as recording:
        notes, messages, clock = _perform(sc, phrases=3)
    audio, rate = read_wav(path)
    pace = len(audio) / ((recording.stopped_at - recording.started_at) * rate)
    return Take(sc, notes, messages, clock, recording.started_at, audio, rate, pace,
                jack.seconds_lost_since(log_from, "SuperCollider"))


def test_the_server_plays_every_note_at_its_pitch_and_time(jack, scsynth, tmp_path):
    take = _recorded_performance(jack, scsynth, tmp_path / "heard.wav")
    if abs(take.pace - 1.0) > 0.01:  # the server lost time: not ours to judge, so once more
        take = _recorded_performance(jack, scsynth, tmp_path / "again.wav")
    sc, notes, audio, rate = take.sc, take.notes, take.audio, take.rate
    assert abs(take.pace - 1.0) <= 0.01, f"the server lost time twice (pace {take.pace:.3f})"
    assert len(notes) >= 12 and sc.sent == len(notes) and sc.dropped == 0
    onsets = []
    for previous, note in zip([None, *notes], notes, strict=False):
        at = round((take.clock.unix(note.due) + sc.latency - take.started_at) * rate * take.pace)
        assert round(dominant_midi(audio[at + 400: at + 6000], rate)) == note.event.note
        if previous is not None and note.due - previous.due < 0.4:
            continue  # a note right before it may still be ringing: time only the ones that stand alone
        envelope = np.abs(audio[at - 2000: at + 2000])
        onsets.append((np.flatnonzero(envelope > 0.1 * envelope.max())[0] - 2000) / rate)
    assert len(onsets) >= 3
    # Heard near its time tag: on these shared machines scsynth (on a non-realtime jackd) places
    # notes up to ~15 ms off, more as a run goes on, with no xrun logged. That is the server's; the
    # tags themselves are checked exactly below. 20 ms still catches any fault of ours that
    # shows in time (a note sent untagged sounds 150 ms early; the latency ignored, 50 ms).
    errors = np.abs(onsets) * 1000
    assert errors.max() < 20.0 + 1000 * take.slipped, errors
    assert any("connected to the server" in m for m in take.messages)


class TaggedOutput(SuperColliderOutput):
    """The real output, keeping a copy of each bundle it sends to the server."""

    def open(self, clock):
        super().open(clock)
        real_send = self._connection.send
        self.bundles = []

        def send(datagram):
            if datagram.startswith(b"#bundle"):
                self.bundles.append(datagram)
            return real_send(datagram)

        self._connection.send = send  # after the handshake: only what playing sends


def test_every_note_is_tagged_with_its_due_time_plus_the_latency(scsynth):
    sc = TaggedOutput(port=scsynth.port)
    notes, _, clock = _perform(sc, phrases=2)
    assert len(sc.bundles) == len(notes) >= 8
    for datagram, note in zip(sc.bundles, notes, strict=True):
        tag = struct.unpack(">Q", datagram[8:16])[0] / 2**32 - NTP_TO_UNIX
        assert abs(tag - (clock.unix(note.due) + sc.latency)) < 1e-6  # exact, to float resolution


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
    from support.services import free_udp_port

    sc = SuperColliderOutput(port=free_udp_port())
    notes, messages, _ = _perform(sc, phrases=2)
    assert notes and sc.sent == 0 and sc.dropped == len(notes)
    assert [m for m in messages if m.startswith("sc:")] == [
        f"sc: no server at 127.0.0.1:{sc.port} yet; playing on, and joining when it answers"]

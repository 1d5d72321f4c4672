"""The Standard MIDI File output: read back with mido, and played by FluidSynth and listened to."""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import mido
import pytest
from support.audio_analysis import dominant_midi, read_wav

from ensemble.clock import VirtualClock
from ensemble.events import Part, Phrase, Sound
from ensemble.melody import REST, Melody
from ensemble.midi.file_output import MidiFileOutput
from ensemble.performance.offline import render_script
from ensemble.performance.script import parse_script

SOUNDFONT = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")
APT_INSTALL = "apt-get install --no-install-recommends fluidsynth timgm6mb-soundfont"
TICKS = 480

SEED = "C4 E4 G4 E4 C4 A4"
CHANGES = f"""
tempo 120
step 0.5
seed {SEED}                       # phrases of 3 beats
set all palette=chromatic:C4-B4 rests=off epsilon=0 alpha=1
spawn 2
set a1 program=40
wait 8
tempo 90
set a0 program=73
wait 4
"""


def _render(text, directory, seed=0, name="out"):
    result = render_script(parse_script(text), directory / f"{name}.wav", seed=seed, show_progress=False,
                           midi=directory / f"{name}.mid")
    return result, directory / f"{name}.mid"


def _absolute(track):
    """(tick, message) with absolute times."""
    tick, timed = 0, []
    for message in track:
        tick += message.time
        timed.append((tick, message))
    return timed


@pytest.fixture(scope="module")
def changes(glicol, tmp_path_factory):
    """CHANGES rendered once: (render result, the MIDI file read back)."""
    directory = tmp_path_factory.mktemp("changes")
    return _render(CHANGES, directory)[0], mido.MidiFile(directory / "out.mid")


class TestARenderedScript:
    def test_is_format_1_with_a_tempo_track_and_a_track_per_agent(self, changes):
        _, midi = changes
        assert midi.type == 1 and midi.ticks_per_beat == TICKS
        assert [track.name for track in midi.tracks] == ["", "a0", "a1"]
        assert not any(isinstance(message, mido.Message) for message in midi.tracks[0])

    def test_the_tempo_changes_where_the_script_changed_it(self, changes):
        _, midi = changes
        tempos = [(tick, m.tempo) for tick, m in _absolute(midi.tracks[0]) if m.type == "set_tempo"]
        assert tempos == [(0, 500000), (8 * 3 * TICKS, 666667)]  # 120 bpm, then 90 after 8 phrases
        assert abs(midi.length - (8 * 3 * 0.5 + 4 * 3 * 60 / 90)) < 1e-3  # seconds, through the tempo map

    def test_channels_follow_the_agents_and_programs_are_sent_when_set(self, changes):
        _, midi = changes
        for channel, track in enumerate(midi.tracks[1:]):
            assert {m.channel for m in track if isinstance(m, mido.Message)} == {channel}
        programs = [[(tick, m.program) for tick, m in _absolute(track) if m.type == "program_change"]
                    for track in midi.tracks[1:]]
        assert programs == [[(8 * 3 * TICKS, 73)], [(0, 40)]]

    def test_every_note_on_has_its_note_off_on_the_same_channel(self, changes):
        _, midi = changes
        for track in midi.tracks[1:]:
            sounding = {}
            for tick, message in _absolute(track):
                key = (message.channel, message.note) if message.type.startswith("note") else None
                if message.type == "note_on":
                    assert key not in sounding
                    sounding[key] = tick
                elif message.type == "note_off":
                    assert tick - sounding.pop(key) == round(0.95 * 0.5 * TICKS)  # re-articulated
            assert not sounding

    def test_the_notes_are_what_each_agent_played_on_the_phrase_grid(self, changes):
        result, midi = changes
        for track in midi.tracks[1:]:
            expected = [(round((phrase * 3 + step * 0.5) * TICKS), note)
                        for phrase, attempts in enumerate(result.session.history.attempts)
                        for attempt in attempts if attempt.agent == track.name
                        for step, note in enumerate(attempt.played) if note != REST]
            heard = [(tick, m.note) for tick, m in _absolute(track) if m.type == "note_on"]
            assert heard == expected and len(heard) == 12 * 6
        last = [(tick, m.note) for tick, m in _absolute(midi.tracks[1]) if m.type == "note_on"][-6:]
        seed = Melody.parse(SEED).notes
        assert last == [(round((11 * 3 + k * 0.5) * TICKS), note) for k, note in enumerate(seed)]

    def test_the_file_ends_with_the_last_phrase(self, changes):
        _, midi = changes
        for track in midi.tracks:
            tick, message = _absolute(track)[-1]
            assert message.type == "end_of_track" and tick == 12 * 3 * TICKS


@pytest.mark.usefixtures("glicol")
def test_the_same_script_and_seed_give_the_same_bytes(tmp_path):
    script = CHANGES.replace("epsilon=0 alpha=1", "epsilon=0.5").replace("wait 8", "wait 2")
    digests = [hashlib.sha256(_render(script, tmp_path, seed, name=str(i))[1].read_bytes()).hexdigest()
               for i, seed in enumerate([3, 3, 4])]
    assert digests[0] == digests[1] != digests[2]


def _fluidsynth() -> str:
    binary = shutil.which("fluidsynth")
    missing = [name for name, present in (("fluidsynth", binary), (str(SOUNDFONT), SOUNDFONT.exists()))
               if not present]
    if missing:
        reason = f"not installed: {', '.join(missing)}; install with `{APT_INSTALL}`"
        if os.environ.get("CI"):
            pytest.fail(f"the MIDI file tests need FluidSynth in CI: {reason}")
        pytest.skip(f"FluidSynth {reason}")
    return binary


@pytest.mark.usefixtures("glicol")
def test_fluidsynth_plays_the_converged_melody_at_its_times(tmp_path):
    fluidsynth = _fluidsynth()
    seed = "C4 E4 G4 B4 D4 A4"
    script = (f"tempo 120\nstep 0.5\nseed {seed}\n"
              "set all palette=chromatic:C4-B4 rests=off epsilon=0 alpha=1\n"
              "spawn 1\nwait 20\ntempo 60\nwait 10\n")  # 20 phrases of 1.5 s, then 10 of 3 s
    result, path = _render(script, tmp_path)
    assert result.session.history.attempts[-1][0].accuracy == 1.0
    wav = tmp_path / "fluidsynth.wav"
    subprocess.run([fluidsynth, "-ni", "-R", "0", "-C", "0", "-r", "44100", "-F", str(wav), str(SOUNDFONT),
                    str(path)], check=True, capture_output=True, timeout=60)
    audio, rate = read_wav(wav)
    start = 20 * 1.5 + 9 * 3.0  # the last phrase, in seconds through the tempo change
    heard = [dominant_midi(audio[int((start + k * 0.5 + 0.03) * rate): int((start + k * 0.5 + 0.4) * rate)],
                           rate) for k in range(6)]  # each step's first 0.4 s, past the attack
    assert [round(midi) for midi in heard] == list(Melody.parse(seed).notes)
    assert max(abs(midi - round(midi)) for midi in heard) < 0.3


def test_notes_ending_where_the_next_begins_end_first(tmp_path):
    output = MidiFileOutput(tmp_path / "tight.mid")
    output.open(VirtualClock())
    step = 1 / 96  # 5 ticks: 0.95 of a step rounds to the whole step, so off and on share a tick
    output.phrase(Phrase(0, 0.0, step, 100.0, (Part("a0", (60, 60, REST, 62), Sound(channel=3, program=5)),),
                         4), 0.0)
    output.close()
    track = mido.MidiFile(tmp_path / "tight.mid").tracks[1]
    assert [(m.type, getattr(m, "note", None), m.time) for m in track if m.type != "track_name"] == [
        ("program_change", None, 0), ("note_on", 60, 0), ("note_off", 60, 5), ("note_on", 60, 0),
        ("note_off", 60, 5), ("note_on", 62, 5), ("note_off", 62, 5), ("end_of_track", None, 0)]
    assert {m.channel for m in track if isinstance(m, mido.Message)} == {2}


def test_an_unwritable_midi_path_fails_before_anything_renders(tmp_path):
    (tmp_path / "x.ens").write_text("spawn 1\nwait 1\n")
    result = subprocess.run([sys.executable, "-m", "ensemble", "render", "x.ens", "--out", "a.wav", "--midi",
                             "no/such/dir/x.mid"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "ensemble: cannot write no/such/dir/x.mid: No such file or directory"]
    assert not (tmp_path / "a.wav").exists() and result.stdout == ""


@pytest.mark.usefixtures("glicol")
def test_the_command_writes_both_files(tmp_path):
    (tmp_path / "x.ens").write_text("seed C4 D4\nspawn 2\nwait 2\n")
    result = subprocess.run([sys.executable, "-m", "ensemble", "render", "x.ens", "--out", "a.wav", "--midi",
                             "a.mid"], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "wrote a.mid" in result.stdout.splitlines()
    assert [track.name for track in mido.MidiFile(tmp_path / "a.mid").tracks] == ["", "a0", "a1"]
    assert read_wav(tmp_path / "a.wav")[0].size > 0

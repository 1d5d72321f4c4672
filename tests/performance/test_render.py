"""End to end: scripts rendered offline through the real Glicol engine, checked by listening."""

import hashlib

import numpy as np
import pytest
from support.audio_analysis import dominant_midi, read_wav

from ensemble.errors import UserError
from ensemble.melody import Melody
from ensemble.performance.offline import render_script
from ensemble.performance.script import parse_script

pytestmark = pytest.mark.usefixtures("glicol")

CONVERGING = """
tempo 120
step 0.5
seed C4 E4 G4 E4 C4 A4      # 6 steps of 0.25 s
set all palette=chromatic:C4-B4 rests=off epsilon=0 alpha=1
spawn 2
set a1 voice=square
wait 40
"""


def _render(text, path, seed=0):
    return render_script(parse_script(text), path, seed=seed, show_progress=False)


def test_after_convergence_the_last_phrase_plays_the_seed_at_the_right_times(tmp_path):
    result = _render(CONVERGING, tmp_path / "out.wav")
    audio, rate = read_wav(tmp_path / "out.wav")
    step = rate // 4
    start = result.phrase_starts[-1]
    heard = [round(dominant_midi(audio[start + k * step + 500: start + (k + 1) * step - 2500], rate))
             for k in range(6)]
    assert heard == list(Melody.parse("C4 E4 G4 E4 C4 A4").notes)
    last = result.session.history.attempts[-1]
    assert all(attempt.accuracy == 1.0 for attempt in last)


def test_the_first_phrase_is_still_searching(tmp_path):
    result = _render(CONVERGING, tmp_path / "out.wav")
    first = result.session.history.attempts[0]
    assert any(attempt.accuracy < 1.0 for attempt in first)


def test_the_wav_lasts_the_phrases_plus_a_short_ring_out(tmp_path):
    result = _render(CONVERGING, tmp_path / "out.wav")  # 40 phrases of 6 x 0.25 s
    audio, rate = read_wav(tmp_path / "out.wav")
    assert abs(len(audio) / rate - (40 * 1.5 + 0.5)) < 0.01
    assert result.phrase_starts == [round(i * 1.5 * rate) for i in range(40)]
    assert np.abs(audio[-rate // 10:]).max() < 0.01  # the last notes have died away


def test_the_same_script_and_seed_give_the_same_bytes(tmp_path):
    script = CONVERGING.replace("epsilon=0 alpha=1", "epsilon=0.5").replace("wait 40", "wait 6")
    digests = [hashlib.sha256(_render(script, tmp_path / f"{i}.wav", seed).path.read_bytes()).hexdigest()
               for i, seed in enumerate([3, 3, 4])]
    assert digests[0] == digests[1] != digests[2]


def test_the_mix_never_clips(tmp_path):
    script = "seed C6 B6 C7 A6\nset all palette=chromatic:C6-C7 epsilon=1\nspawn 24\nwait 4\n"
    _render(script, tmp_path / "loud.wav")
    audio, _ = read_wav(tmp_path / "loud.wav")
    assert 0.3 < np.abs(audio).max() <= 0.985


def test_changes_mid_performance_keep_the_music_going(tmp_path):
    script = ("seed C4 E4 G4\nspawn 2\nwait 3\ntempo 90\nstep 0.25\nspawn\nset all voice=tri\n"
              "wait 2\nseed C4 D4 E4 F4 G4 _\nset a1 palette=minor:A3-A4 reward=near\nwait 3\n")
    result = _render(script, tmp_path / "changes.wav")
    audio, rate = read_wav(tmp_path / "changes.wav")
    assert len(result.phrase_starts) == 8
    for start in result.phrase_starts:  # every phrase sounds
        assert np.abs(audio[start: start + rate // 2]).max() > 0.05


def test_a_bad_line_fails_before_rendering_with_file_and_line(tmp_path):
    script = "seed C4 E4\nspawn 1\nwait 1\nset a3 alpha=0.5\nwait 1\n"
    with pytest.raises(UserError, match=r"^perf\.ens:4: no agent 'a3'"):
        render_script(parse_script(script, "perf.ens"), tmp_path / "x.wav", name="perf.ens",
                      show_progress=False)
    assert not (tmp_path / "x.wav").exists()

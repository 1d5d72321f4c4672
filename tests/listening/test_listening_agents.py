"""Listening agents, end to end: they learn from rendered audio and end up playing the seed.

Each performance is rendered offline through the real Glicol engine, and the last phrase,
where only the listening agent sounds, is checked by its pitches.
"""

import numpy as np
import pytest
from support.audio_analysis import dominant_midi, read_wav

from ensemble.melody import Melody
from ensemble.performance.offline import render_script
from ensemble.performance.script import parse_script

pytestmark = pytest.mark.usefixtures("glicol")

FIVE = "C4 E4 G4 E4 C4"
SIXTEEN = "C4 D4 E4 F4 G4 A4 B4 C5 B4 G4 E4 C4 D4 Gb4 A4 Db4"  # no `#`: it starts a comment


def _render(text, path):
    return render_script(parse_script(text), path, seed=5, show_progress=False)


def _heard_in_last_phrase(result, path, steps):
    audio, rate = read_wav(path)
    step = rate // 4  # 0.5 beats at 120 bpm
    start = result.phrase_starts[-1]
    return [round(dominant_midi(audio[start + k * step + 500: start + (k + 1) * step - 2500], rate))
            for k in range(steps)]


@pytest.mark.parametrize(("melody", "phrases"), [(FIVE, 20), (SIXTEEN, 20)])
def test_a_listening_agent_converges_on_the_seed_pitches(tmp_path, melody, phrases):
    script = f"""
tempo 120
step 0.5
seed {melody}
set all palette=chromatic:C4-C5 rests=off epsilon=0 alpha=1 reward=listen
spawn 1
wait {phrases}
"""
    result = _render(script, tmp_path / "out.wav")
    seed = list(Melody.parse(melody).notes)
    assert _heard_in_last_phrase(result, tmp_path / "out.wav", len(seed)) == seed
    # It learnt from sounds, not from notes: its hits scored what a saw scores against a saw.
    assert result.session.history.attempts[-1][0].reward == pytest.approx(1.0)
    assert result.session.history.attempts[0][0].accuracy < 1.0


def test_a_saw_listening_to_a_square_converges_on_its_pitches(tmp_path):
    script = f"""
tempo 120
step 0.5
seed {FIVE}
set all palette=chromatic:C4-B4 rests=off epsilon=0 alpha=1
spawn 2
set a0 voice=square reward=exact
set a1 voice=saw reward=listen
wait 29
solo a1
wait 1
"""
    result = _render(script, tmp_path / "out.wav")
    assert _heard_in_last_phrase(result, tmp_path / "out.wav", 5) == list(Melody.parse(FIVE).notes)
    heard_by_a1 = next(a for a in result.session.history.attempts[-1] if a.agent == "a1")
    assert heard_by_a1.accuracy == 1.0
    # A saw never sounds exactly like a square: even all-correct, its reward stays below 1.
    assert 0.5 < heard_by_a1.reward < 0.99


def test_the_bundled_performance_by_ear_travels_down_a_chain_of_listeners(tmp_path):
    from ensemble.resources import bundled

    text = (bundled("performances") / "by_ear.ens").read_text()
    result = render_script(parse_script(text, "by_ear.ens"), tmp_path / "by_ear.wav", seed=3,
                           show_progress=False)
    last = result.session.history.attempts[-5:]
    for agent in ("a1", "a2"):  # only ever rewarded by ear
        mine = [a for phrase in last for a in phrase if a.agent == agent]
        assert np.mean([a.accuracy for a in mine]) >= 0.75
        assert all(a.reward < 0.99 for a in mine)  # never the exact sound of another voice

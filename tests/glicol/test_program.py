"""Voice templates from patches/ and the chains built from them, heard through the engine."""

import numpy as np
import pytest
from support.audio_analysis import dominant_midi

from ensemble.errors import UserError
from ensemble.glicol.engine import BLOCK, SAMPLE_RATE, GlicolEngine
from ensemble.glicol.program import chain, load_voices, parse_voice
from ensemble.melody import REST
from ensemble.voicing import VOICES


def test_every_voice_the_agents_can_choose_has_a_template():
    assert set(VOICES) <= set(load_voices())


def test_a_voice_with_an_untested_node_is_refused():
    with pytest.raises(UserError, match="uses node 'reverb'"):
        parse_voice("wet", "sawsynth {attack} {decay} >> reverb 0.5")


def test_a_chain_scales_its_level_by_its_loudest_note():
    voice = parse_voice("v", "squsynth {attack} {decay}")
    line = chain("a0_1", [60, REST, 72], voice, 0.25, 0.5)
    assert line == "a0_1: seq 60 _ 72 >> squsynth 0.005 0.225 >> mul 0.250000"


@pytest.mark.usefixtures("glicol")
@pytest.mark.parametrize("name", sorted(load_voices()))
def test_each_voice_plays_the_note_it_is_given(name):
    engine = GlicolEngine(on_message=pytest.fail)
    engine.update(chain("a", [57, 64], load_voices()[name], 1.0, 0.5))
    out = np.zeros((700, 2, BLOCK), dtype=np.float32)
    engine.render_into(out)
    audio = out[:, 0, :].ravel()
    half = SAMPLE_RATE // 2  # at 120 bpm the bar is 2 s, so each of the two notes lasts 1 s
    assert round(dominant_midi(audio[2000:half], SAMPLE_RATE)) == 57
    assert round(dominant_midi(audio[SAMPLE_RATE + 2000: SAMPLE_RATE + half], SAMPLE_RATE)) == 64
    assert np.abs(audio).max() <= 0.5 + 1e-3

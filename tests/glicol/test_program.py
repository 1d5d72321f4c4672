"""Voice templates from patches/ and the chains built from them, heard through the engine."""

import numpy as np
import pytest
from support.audio_analysis import dominant_midi

from ensemble.errors import UserError
from ensemble.glicol.engine import BLOCK, SAMPLE_RATE, GlicolEngine
from ensemble.glicol.program import FAINTEST_NOTE, chain, load_voices, parse_voice
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


def test_a_split_step_is_written_as_one_token_and_a_new_chain_starts_it_inaudibly():
    voice = parse_voice("v", "squsynth {attack} {decay}")
    line = chain("a0_1_l8", [REST, (REST, REST, 64, REST), 67], voice, 0.25, 0.5, new=True, inaudible=-100)
    assert line == "a0_1_l8: seq -100 __64_ 67 >> squsynth 0.005 0.225 >> mul 0.333710"  # 0.5 / ratio(G4)
    # Two numbers side by side would read as one: a note second in a split step gets a rest between.
    line = chain("a", [(REST, 64)], voice, 0.25, 0.5, new=True, inaudible=-100)
    assert line.startswith("a: seq -100_64_ >>")


def test_an_agents_chains_can_share_the_level_of_its_loudest_note():
    voice = parse_voice("v", "squsynth {attack} {decay}")
    assert chain("a", [60, REST], voice, 0.25, 0.5, loudest=72).endswith("mul 0.250000")
    assert chain("a", [REST], voice, 0.25, 0.0).endswith("mul 0.000000")  # a muted agent's


@pytest.mark.usefixtures("glicol")
def test_the_faintest_note_starts_a_chain_silently_however_long_its_decay():
    engine = GlicolEngine(on_message=pytest.fail)
    engine.update(chain("a", [REST, REST], load_voices()["saw"], 4.0, 0.5, new=True, inaudible=FAINTEST_NOTE))
    out = np.zeros((1400, 2, BLOCK), dtype=np.float32)  # 4 s: the whole envelope
    engine.render_into(out)
    assert np.abs(out).max() < 1e-4  # 80 dB below the level

"""Priors: what an agent expects a melody to be, scored note by note, and what it does to learning."""

import numpy as np
import pytest

from ensemble.learning.chain import Chain
from ensemble.learning.priors import NONE, REPEAT, SCALE, STEPWISE, scores, tonic_triad
from ensemble.learning.settings import HandOff, LearningSettings
from ensemble.melody import REST, Melody, Palette

OPTIONS = np.array([[60, 62, 64, 65, 67, 72, REST]])  # C4 D4 E4 F4 G4 C5, rest


def score_after(kind: int, before: int) -> list[float]:
    triads = np.array([[True, False, True, False, True, True, False]])
    return scores(np.array([kind]), OPTIONS, np.array([[before]]), triads)[0, 0].round(3).tolist()


def test_each_prior_scores_notes_as_documented() -> None:
    assert score_after(STEPWISE, 60) == [1.0, 1.0, 0.6, 0.4, 0.0, 0.0, 0.5]  # repeat, step, leaps, rest
    assert score_after(REPEAT, 60) == [1.0, 0.833, 0.667, 0.583, 0.417, 0.0, 0.5]
    assert score_after(SCALE, 60) == [1.0, 0.5, 1.0, 0.5, 1.0, 1.0, 0.5]  # the tonic triad
    assert score_after(NONE, 60) == [0.0] * 7
    assert score_after(STEPWISE, REST) == [0.5] * 7  # nothing before: no expectation


def test_the_tonic_triad_is_the_palettes_degrees_one_three_and_five() -> None:
    palette = Palette("minor", 57, 69)  # A minor: A C E
    notes = palette.notes
    triad = [note for note, yes in zip(notes, tonic_triad(palette, notes), strict=True) if yes]
    assert triad == [57, 60, 64, 69]


def test_settings_read_and_write_the_new_keys() -> None:
    settings = LearningSettings().changed({"prior": "stepwise", "prior_strength": "1.5",
                                           "handoff": "after:12", "handoff_as": "sample"})
    assert (settings.prior, settings.prior_strength, str(settings.handoff), settings.handoff_as) == (
        "stepwise", 1.5, "after:12", "sample")
    assert HandOff.parse("at:0.75") == HandOff("at", 0.75) and str(HandOff.parse("at:0.75")) == "at:0.75"
    for bad in ("after:0", "after:1.5", "at:2", "later", "at:", "after:x"):
        with pytest.raises(ValueError):
            HandOff.parse(bad)


LEAPS = Melody.parse("C4 C5 D4 B4 E4 A4 F4 G4")  # wide intervals in C major


def mean_interval(notes: tuple[int, ...]) -> float:
    return float(np.mean(np.abs(np.diff(notes))))


def copier(prior: str) -> Chain:
    chain = Chain(LEAPS, seed=3)
    chain.spawn(1)
    chain.configure("a0", {"reward": "near", "rests": "off", "epsilon_decay": "0.99", "prior": prior,
                           "prior_strength": "1"})
    for _ in range(300):
        chain.step()
    return chain


def test_a_stepwise_learner_copies_leaps_smaller_and_one_without_a_prior_copies_them_all() -> None:
    assert copier("none").greedy("a0") == LEAPS.notes
    smoothed = copier("stepwise").greedy("a0")
    assert mean_interval(smoothed) < 0.8 * mean_interval(LEAPS.notes), smoothed
    assert set(smoothed) <= set(LearningSettings().actions)  # still within its palette


def test_an_untrained_agent_plays_what_its_prior_expects() -> None:
    chain = Chain(LEAPS, seed=1)
    chain.spawn(2)
    chain.configure("a1", {"prior": "repeat"})
    assert len(set(chain.greedy("a1"))) == 1  # nothing learned yet: one note, repeated
    assert chain.greedy("a0") == (60,) * 8  # no prior: ties go low, as ever

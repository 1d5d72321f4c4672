import pytest

from ensemble.errors import UserError
from ensemble.rhythm import MAX_TICKS, STEP, Rhythm, length_text, parse_length, step_ticks


@pytest.mark.parametrize(("text", "ticks"), [("1", 16), ("0.5", 8), ("0.75", 12), ("3/4", 12), ("0.0625", 1),
                                             ("16", MAX_TICKS), ("1.5", 24)])
def test_lengths_are_read_in_beats_onto_the_sixteenth_grid(text, ticks):
    assert parse_length(text) == ticks


@pytest.mark.parametrize("text", ["0", "-1", "0.3", "1/3", "16.0625", "17", "x", "", "nan", "inf", "1e309"])
def test_a_length_off_the_grid_or_out_of_range_says_what_is_allowed(text):
    with pytest.raises(UserError, match=r"multiple of 1/16 beat from 0.0625 to 16"):
        parse_length(text)


def test_every_length_prints_to_text_that_reads_back():
    for ticks in range(1, MAX_TICKS + 1):
        assert parse_length(length_text(ticks)) == ticks
    assert [length_text(t) for t in (1, 8, 16, 24)] == ["0.0625", "0.5", "1", "1.5"]


def test_a_rhythm_palette_is_step_or_lengths():
    assert Rhythm.parse("step") == Rhythm() and str(Rhythm()) == "step"
    assert Rhythm.parse("2,0.5,1,0.5").lengths == (8, 16, 32)
    assert str(Rhythm.parse("2,0.5,1")) == "0.5,1,2"
    with pytest.raises(UserError):
        Rhythm.parse(",")


def test_a_step_is_on_the_grid_or_not():
    assert step_ticks(0.5) == 8 and step_ticks(0.25) == 4
    assert step_ticks(0.3) is None
    assert STEP == 0

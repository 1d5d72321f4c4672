import re

import pytest

from ensemble.errors import UserError
from ensemble.melody import REST, Melody, Palette, laid_on, note_name, parse_note


@pytest.mark.parametrize(("token", "midi"), [
    ("C4", 60), ("F#3", 54), ("Bb5", 82), ("61", 61), ("A4", 69), ("_", REST),
])
def test_parse_note(token, midi):
    assert parse_note(token) == midi


@pytest.mark.parametrize("token", ["C-1", "0", "128", "G#9"])
def test_notes_outside_the_playable_range(token):
    with pytest.raises(UserError, match="outside"):
        parse_note(token)  # MIDI 0 is Glicol's own silence value, so it cannot be played


def test_melody_round_trips_in_note_names():
    melody = Melody.parse("C4 E4 G4 _ 61 Bb3")
    assert melody.notes == (60, 64, 67, REST, 61, 58)
    assert str(melody) == "C4 E4 G4 _ C#4 A#3"
    assert Melody.parse(str(melody)) == melody


@pytest.mark.parametrize(("text", "where"), [("C4 H4 G4", "step 2: 'H4'"), ("C4 E4 200", "step 3: '200'")])
def test_bad_token_is_named_with_its_position(text, where):
    with pytest.raises(UserError, match=where):
        Melody.parse(text)


def test_note_names():
    assert [note_name(n) for n in (60, 61, 71, 72, REST)] == ["C4", "C#4", "B4", "C5", "_"]


def test_palettes():
    assert Palette.parse("major:C4-C5").notes == (60, 62, 64, 65, 67, 69, 71, 72, REST)
    assert Palette.parse("pentatonic:A3-A4").notes[:-1] == (57, 59, 61, 64, 66, 69)
    assert len(Palette.parse("chromatic:C4-B4").notes) == 13
    assert str(Palette.parse("minor:D3-D5")) == "minor:D3-D5"


@pytest.mark.parametrize("text", ["lydian:C4-C5", "major:C5-C4", "major", "major:C4-X"])
def test_bad_palettes(text):
    with pytest.raises(UserError):
        Palette.parse(text)


def test_notes_may_carry_their_length_in_beats():
    melody = Melody.parse("C4:1 E4:0.5 G4:0.5 _:1 A4:2 F#4:0.75 _:0.5 D4")
    assert melody.notes == (60, 64, 67, -1, 69, 66, -1, 62)
    assert melody.lengths == (16, 8, 8, 16, 32, 12, 8, 0)  # D4: one step, whatever the step
    assert melody.ticks(4) == (16, 8, 8, 16, 32, 12, 8, 4)
    assert str(melody) == "C4:1 E4:0.5 G4:0.5 _:1 A4:2 F#4:0.75 _:0.5 D4"
    assert Melody.parse(str(melody)) == melody


def test_a_melody_of_steps_is_the_melody_it_always_was():
    assert Melody.parse("C4 E4") == Melody((60, 64))
    assert Melody.parse("C4 E4").lengths is None and not Melody.parse("C4 E4").rhythmic


@pytest.mark.parametrize(("text", "message"), [
    ("C4:0.3", "step 1: length '0.3' beats: must be a multiple of 1/16 beat"),
    ("C4 E4:17", "step 2: length '17' beats: must be"),
    ("C4:", "step 1: length '' is not a number of beats"),
    ("H4:1", "step 1: 'H4' is not a note"),
])
def test_a_bad_length_is_refused_with_its_step(text, message):
    with pytest.raises(UserError, match=re.escape(message)):
        Melody.parse(text)


def test_an_attempt_is_laid_on_the_phrase_grid():
    # cut at the boundary, notes after it dropped
    assert laid_on((60, 62, 64), (16, 16, 16), 24) == ((60, 62), (16, 8))
    # short: a rest fills up to the boundary
    assert laid_on((60, 62), (4, 4), 16) == ((60, 62, REST), (4, 4, 8))
    assert laid_on((60, 62), (8, 8), 16) == ((60, 62), (8, 8))


def test_transpose_and_the_other_perturbations_of_a_seed():
    seed = Melody.parse("C4:1 E4 _ G4:2")
    assert seed.transposed(-3) == Melody.parse("A3:1 C#4 _ E4:2")
    assert seed.perturbed("reverse") == Melody.parse("G4:2 _ E4 C4:1")
    assert seed.perturbed("rotate") == Melody.parse("E4 _ G4:2 C4:1")
    assert seed.perturbed("invert") == Melody.parse("C4:1 G#3 _ F3:2")  # around the first note
    with pytest.raises(UserError, match=r"^transposed by \+48, the seed would leave MIDI 1\.\.127 \(139\)$"):
        Melody.parse("G5 G6").transposed(48)
    with pytest.raises(UserError, match=r"^inverted, the seed would leave MIDI 1\.\.127"):
        Melody.parse("C1 C8").perturbed("invert")

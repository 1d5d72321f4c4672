from ensemble.events import NoteEvent, Part, Phrase
from ensemble.melody import REST


def test_a_phrase_lists_its_notes_as_events_and_skips_rests():
    parts = (Part("a0", "saw", (60, REST, 64)), Part("a1", "tri", (72, 74, REST)))
    phrase = Phrase(3, 12.0, 0.5, 120.0, parts, 3)
    assert phrase.beats == 1.5 and phrase.step_seconds == 0.25
    assert phrase.events() == [
        NoteEvent("a0", 12.0, 0.5, 60), NoteEvent("a0", 13.0, 0.5, 64),
        NoteEvent("a1", 12.0, 0.5, 72), NoteEvent("a1", 12.5, 0.5, 74),
    ]

from ensemble.events import NoteEvent, Part, Phrase, Sound
from ensemble.melody import REST


def test_a_phrase_lists_its_notes_as_events_and_skips_rests():
    parts = (Part("a0", (60, REST, 64), Sound("saw")), Part("a1", (72, 74, REST), Sound("tri")))
    phrase = Phrase(3, 12.0, 0.5, 120.0, parts, 3)
    assert phrase.beats == 1.5 and phrase.step_seconds == 0.25
    assert phrase.events() == [
        NoteEvent("a0", 12.0, 0.5, 60, sound=Sound("saw")),
        NoteEvent("a0", 13.0, 0.5, 64, sound=Sound("saw")),
        NoteEvent("a1", 12.0, 0.5, 72, sound=Sound("tri")),
        NoteEvent("a1", 12.5, 0.5, 74, sound=Sound("tri")),
    ]

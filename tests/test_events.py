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


def test_the_rest_of_a_phrase_of_steps_from_a_beat_at_a_new_tempo():
    muted = Part("a1", (1, 2, 3, 4))
    phrase = Phrase(3, 8.0, 0.5, 120.0, (Part("a0", (60, 62, 64, 65)),), 4, silent=(muted,))
    rest = phrase.rest_from(9.0, 90.0)
    assert rest == Phrase(3, 9.0, 0.5, 90.0, (Part("a0", (64, 65)),), 2, silent=(Part("a1", (3, 4)),))
    assert phrase.rest_from(9.2, 90.0).start_beat == 9.5  # from the next step
    assert phrase.rest_from(10.0, 90.0) is None and phrase.rest_from(7.0, 90.0) is None


def test_the_rest_of_a_rhythmic_phrase_leaves_out_a_note_sounding_across_the_beat():
    part = Part("a0", (60, 62, 64), lengths=(0.5, 1.5, 2.0))  # onsets 0, 0.5, 2
    phrase = Phrase(0, 4.0, 0.25, 120.0, (part,), 3, length_beats=4.0)
    rest = phrase.rest_from(5.0, 140.0)
    assert rest is not None and (rest.start_beat, rest.tempo, rest.beats) == (5.0, 140.0, 3.0)
    assert rest.parts == (Part("a0", (REST, 64), lengths=(1.0, 2.0)),)
    assert [(e.start, e.duration, e.note) for e in rest.events()] == [(6.0, 2.0, 64)]

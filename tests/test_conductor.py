"""The conductor on a virtual clock: the same code as live, as fast as it can run."""

from itertools import pairwise

import pytest
from support.messages import captured

from ensemble.clock import VirtualClock
from ensemble.conductor import COMPOSE_AHEAD, Conductor
from ensemble.errors import UserError
from ensemble.outputs.base import Output
from ensemble.performance.script import parse_script
from ensemble.performance.sources import script_source
from ensemble.session import Session

SCRIPT = "seed C4 E4 G4 _\nspawn 2\nwait 2\ntempo 60\nwait 1\n"  # 2 phrases of 1 s, then 1 of 2 s


class Recorder(Output):
    name = "recorder"

    def __init__(self, clock, fail_to_open=False):
        super().__init__()
        self.clock, self.fail_to_open = clock, fail_to_open
        self.log = []
        self.closed = False

    def open(self, clock):
        if self.fail_to_open:
            raise UserError("recorder: no such device")

    def phrase(self, phrase, start):
        self.log.append(("phrase", phrase.index, start, self.clock.now()))

    def note(self, note):
        self.log.append(("note", note.event.agent, note.due, self.clock.now(), note.duration))

    def retime(self, rest, start):
        self.log.append(("retime", rest.start_beat, start, rest.tempo, len(rest.events())))

    def close(self):
        self.closed = True


def _conduct(script=SCRIPT, lookahead=0.1, outputs=None):
    clock = VirtualClock(start=100.0)
    session = Session(seed=0)
    phrases = script_source(parse_script(script), 0, "test").play(session)
    outputs = outputs or [Recorder(clock)]
    conductor = Conductor(phrases, session.tempo, outputs, clock, lookahead=lookahead)
    conductor.run()
    return conductor, outputs[0], session


def test_phrases_and_notes_are_handed_over_a_lookahead_before_they_sound():
    conductor, recorder, _ = _conduct()
    origin = conductor.origin
    phrases = [entry for entry in recorder.log if entry[0] == "phrase"]
    assert [(index, start - origin) for _, index, start, _ in phrases] == [(0, 0.0), (1, 1.0), (2, 2.0)]
    assert all(handed == pytest.approx(start - 0.1) for _, _, start, handed in phrases)
    notes = [entry for entry in recorder.log if entry[0] == "note"]
    assert all(handed == pytest.approx(due - 0.1) for _, _, due, handed, _ in notes)
    assert conductor.timing.late == 0 and min(conductor.timing.margins) == pytest.approx(0.1)


def test_due_times_come_from_logical_time_across_a_tempo_change():
    conductor, recorder, _ = _conduct()
    notes = [entry for entry in recorder.log if entry[0] == "note"]
    dues = {round(due - conductor.origin, 6) for _, _, due, _, _ in notes}
    # 120 bpm: steps of 0.25 s in phrases 0 and 1; 60 bpm: steps of 0.5 s in phrase 2
    assert dues <= {0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5}
    assert {0.0, 1.0, 2.0} <= dues
    durations = {round(duration, 6) for _, _, due, _, duration in notes if due - conductor.origin >= 2}
    assert durations == {0.5}


def test_each_phrase_is_composed_just_before_it_is_handed_over():
    clock = VirtualClock()
    session = Session(seed=0)
    composed_at = []

    def phrases():
        for phrase in script_source(parse_script(SCRIPT), 0, "test").play(session):
            composed_at.append(clock.now())
            yield phrase

    recorder = Recorder(clock)
    conductor = Conductor(phrases(), session.tempo, [recorder], clock, lookahead=0.1)
    conductor.run()
    starts = [entry[2] for entry in recorder.log if entry[0] == "phrase"]
    handed_over = [entry[3] for entry in recorder.log if entry[0] == "phrase"]
    assert handed_over == pytest.approx([start - 0.1 for start in starts])
    # After the first, each is composed COMPOSE_AHEAD before its hand-over: a command typed until
    # then lands on it, not on the phrase after it.
    assert composed_at[1:] == pytest.approx([start - 0.1 - COMPOSE_AHEAD for start in starts[1:]])
    last_notes = [max(e[3] for e in recorder.log if e[0] == "note" and start <= e[2] < next_start)
                  for start, next_start in pairwise(starts)]
    assert all(note <= composed for note, composed in zip(last_notes, composed_at[1:], strict=False))


def test_outputs_are_closed_at_the_end():
    _, recorder, _ = _conduct()
    assert recorder.closed


def test_an_output_that_cannot_open_is_reported_and_the_others_play():
    clock = VirtualClock()
    session = Session(seed=0)
    broken, working = Recorder(clock, fail_to_open=True), Recorder(clock)
    phrases = script_source(parse_script(SCRIPT), 0, "test").play(session)
    with captured() as messages:
        Conductor(phrases, session.tempo, [broken, working], clock).run()
    assert "recorder: no such device" in messages
    assert working.log and not broken.log


class Exploding(Recorder):
    """An output with a bug: it raises on its third note."""

    def note(self, note):
        super().note(note)
        if sum(entry[0] == "note" for entry in self.log) == 3:
            raise RuntimeError("index out of range")


def test_an_output_that_raises_is_dropped_in_one_line_and_the_others_play_on():
    clock = VirtualClock()
    session = Session(seed=0)
    exploding, working = Exploding(clock), Recorder(clock)
    phrases = script_source(parse_script(SCRIPT), 0, "test").play(session)
    with captured() as messages:
        Conductor(phrases, session.tempo, [exploding, working], clock).run()
    assert messages.warnings() == [
        "recorder: failed (RuntimeError: index out of range); dropped, the others play on"]
    assert sum(entry[0] == "note" for entry in exploding.log) == 3
    assert exploding.closed  # dropped, and closed: nothing of it is left sounding
    everything = _conduct()[1]
    assert [entry[:2] for entry in working.log] == [entry[:2] for entry in everything.log]  # every note


def test_with_no_output_at_all_it_says_so():
    clock = VirtualClock()
    with pytest.raises(UserError, match="no output could be opened"):
        _conduct(outputs=[Recorder(clock, fail_to_open=True)])


def test_stop_ends_the_performance_early():
    clock = VirtualClock()
    session = Session(seed=0)
    recorder = Recorder(clock)
    phrases = script_source(parse_script("spawn 1\nwait 100\n"), 0, "test").play(session)
    conductor = Conductor(phrases, session.tempo, [recorder], clock)

    original = recorder.phrase

    def phrase_then_stop(phrase, start):
        original(phrase, start)
        if phrase.index == 2:
            conductor.stop()

    recorder.phrase = phrase_then_stop
    conductor.run()
    assert conductor.phrases_played == 2 and recorder.closed


def test_a_nudged_output_is_given_its_times_earlier_by_its_latency():
    clock = VirtualClock(start=100.0)
    plain, nudged = Recorder(clock), Recorder(clock)
    nudged.nudge = 0.02
    _conduct(outputs=[plain, nudged])
    for kind in ("phrase", "note"):
        times = [[entry[2] for entry in output.log if entry[0] == kind] for output in (plain, nudged)]
        assert times[1] == pytest.approx([due - 0.02 for due in times[0]])
    handed = [[entry[3] for entry in output.log] for output in (plain, nudged)]
    assert handed[0] == handed[1]  # handed over together: only the time stamps move


class Beats:
    """A beat source on the virtual clock: 60 bpm (a beat a second) until `faster`, then 120;
    stopped (its beat held) between `stop` and `go`."""

    name = "the test's beats"

    def __init__(self, clock, faster, stop, go):
        self.clock, self.faster, self.stop, self.go = clock, faster, stop, go

    def reading(self):
        from ensemble.sync.timeline import Reading

        now = self.clock.now()
        moving = now - max(0.0, min(now, self.go) - self.stop)  # seconds the beats have moved for
        beat = moving if moving <= self.faster else self.faster + 2 * (moving - self.faster)
        return Reading(now, beat, 60.0 if moving <= self.faster else 120.0, not self.stop <= now < self.go)

    def align(self, quantum):
        pass


def test_a_followed_timeline_places_the_notes_follows_the_tempo_and_holds_while_stopped():
    from ensemble.sync.timeline import FollowedTimeline

    clock = VirtualClock(start=0.5)
    session = Session(seed=0)
    script = "step 0.5\nseed C4 E4 G4 C5\nspawn 1\nwait 6\n"  # phrases of 2 beats, a note a step
    phrases = script_source(parse_script(script), 0, "test").play(session)
    beats = Beats(clock, faster=4.0, stop=7.05, go=9.0)
    recorder = Recorder(clock)
    told = []
    conductor = Conductor(phrases, session.tempo, [recorder], clock, lookahead=0.1,
                          timeline=FollowedTimeline(beats, quantum=2.0), follow_tempo=told.append)
    with captured() as messages:
        conductor.run()
    starts = [entry[2] for entry in recorder.log if entry[0] == "phrase"]
    # beat 0 on the first quantum boundary (2 source beats) after 0.5 + 0.1 + 0.1 s: 2.0 s; 60 bpm
    # to 4 s, then 120; held from 7.05 s (the source's beat 10.1) to 9.0 s, then on from there
    assert starts == pytest.approx([2.0, 4.0, 5.0, 6.0, 7.0, 9.95])
    dues = [entry[2] for entry in recorder.log if entry[0] == "note" and entry[2] >= 7.0]
    assert dues[:5] == pytest.approx([7.0, 9.2, 9.45, 9.7, 9.95])  # the held phrase's rest after 9 s
    assert told[:2] == [60.0, 60.0] and told[-1] == 120.0  # each phrase composed at the source's tempo
    assert "the test's beats stopped: holding" in messages
    assert "the test's beats plays again: going on" in messages


def test_a_tempo_change_mid_phrase_gives_the_outputs_the_rest_of_the_phrase_from_the_next_beat():
    from ensemble.sync.timeline import FollowedTimeline

    clock = VirtualClock(start=0.5)
    session = Session(seed=0)
    script = "step 0.5\nseed C4 E4 G4 C5 C4 E4 G4 C5\nspawn 1\nwait 3\n"  # phrases of 4 beats
    phrases = script_source(parse_script(script), 0, "test").play(session)
    beats = Beats(clock, faster=5.0, stop=100.0, go=100.0)
    recorder = Recorder(clock)
    conductor = Conductor(phrases, session.tempo, [recorder], clock, lookahead=0.1,
                          timeline=FollowedTimeline(beats, quantum=4.0), follow_tempo=session.take_tempo)
    conductor.run()
    # beat 0 at 4.0 s (the source's beat 4); 120 bpm from 5.0 s (our beat 1): the note on beat
    # 1.5 is handed over at 120, and the rest of the phrase from beat 2 (5.5 s) goes with it
    retimes = [entry[1:] for entry in recorder.log if entry[0] == "retime"]
    assert retimes == [(2.0, pytest.approx(5.5), 120.0, 4)]
    starts = [entry[2] for entry in recorder.log if entry[0] == "phrase"]
    assert starts[:2] == pytest.approx([4.0, 6.5])  # the next phrase is composed at 120: no retime

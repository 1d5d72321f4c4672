"""The MIDI sender's order and timing, with a fake port and a clock the test moves; no JACK needed.

The rules, as ensemble/midi/sender.py implements them: messages leave in due-time order; equal
due times keep the order they were scheduled in (a note-off is not moved ahead of a note-on:
the outputs schedule them apart); a message never leaves before it is due; stopping or
silencing drops what is queued and ends every note that is sounding.
"""

import threading
import time

import mido
import pytest

from ensemble.clock import ManualClock, RealtimeClock
from ensemble.midi import sender as sender_module
from ensemble.midi.sender import ALL_NOTES_OFF, MidiSender

QUIET = 0.1  # real seconds in which a sender that should not send would have sent


@pytest.fixture(autouse=True)
def ordinary_priority(monkeypatch):
    """No SCHED_FIFO thread beside pytest: these tests are about order, not about latency."""
    monkeypatch.setattr(sender_module, "_ask_for_realtime_priority", lambda: None)


class Port:
    """A fake MIDI port: keeps what is sent, with when; fails for the messages in `broken`."""

    def __init__(self):
        self.sent = []
        self.sent_at = []
        self.broken = set()  # (type, note) that raise as a vanished port does
        self._changed = threading.Condition()

    def send(self, message):
        if (message.type, getattr(message, "note", None)) in self.broken:
            raise OSError("port went away")
        with self._changed:
            self.sent.append(message)
            self.sent_at.append(time.monotonic())
            self._changed.notify_all()

    def wait_for(self, count, timeout=5.0):
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.sent) >= count, timeout):
                raise AssertionError(f"{len(self.sent)} of {count} messages sent in {timeout} s: {self.sent}")

    def brief(self):
        return [brief(message) for message in self.sent]


def brief(message):
    if message.type == "control_change":
        return ("cc", message.channel, message.control)
    return (message.type, message.channel, message.note, message.velocity)


def on(note, channel=0, velocity=64):
    return mido.Message("note_on", channel=channel, note=note, velocity=velocity)


def off(note, channel=0):
    return mido.Message("note_off", channel=channel, note=note)


@pytest.fixture
def port():
    return Port()


@pytest.fixture
def errors():
    return []


@pytest.fixture
def make_sender(port, errors):
    made = []

    def make(clock):
        sender = MidiSender(clock, port.send, errors.append)
        made.append(sender)
        return sender

    yield make
    for sender in made:
        sender.stop()  # bounded: joins for 2 s at most


def test_messages_leave_in_due_order_and_ties_in_the_order_they_were_scheduled(port, make_sender):
    sender = make_sender(ManualClock(1.0))  # everything below is already due
    sender.schedule(0.3, on(64))
    sender.schedule(0.1, on(60))
    sender.schedule(0.2, off(60))
    sender.schedule(0.2, on(62))  # same instant as the off above, scheduled after it: after it
    sender.schedule(0.3, off(62))  # same instant as on(64), scheduled after it: after it too
    sender.schedule(0.1, on(48, channel=5))
    sender.start()
    port.wait_for(6)
    assert port.brief() == [brief(m) for m in (on(60), on(48, channel=5), off(60), on(62), on(64), off(62))]


def test_nothing_leaves_before_it_is_due(port, make_sender):
    clock = ManualClock(0.0)
    sender = make_sender(clock)
    sender.start()
    sender.schedule(0.02, on(60))
    sender.schedule(0.05, off(60))
    time.sleep(QUIET)
    assert port.sent == []
    clock.advance(0.02)
    port.wait_for(1)
    time.sleep(QUIET)
    assert port.brief() == [brief(on(60))]
    clock.advance(0.04)
    port.wait_for(2)
    assert port.brief() == [brief(on(60)), brief(off(60))]
    assert sender.lateness == [0.0]  # note-ons only, measured on the sender's clock


def test_a_message_scheduled_later_but_due_sooner_goes_first(port, make_sender):
    clock = ManualClock(0.0)
    sender = make_sender(clock)
    sender.start()
    sender.schedule(0.05, on(64))
    time.sleep(QUIET)  # the sender is waiting for 0.05
    sender.schedule(0.02, on(60))
    clock.advance(0.1)
    port.wait_for(2)
    assert port.brief() == [brief(on(60)), brief(on(64))]


def test_on_the_real_clock_each_message_leaves_at_or_after_its_due_time(port, make_sender):
    clock = RealtimeClock()
    sender = make_sender(clock)
    sender.start()
    start = clock.now() + 0.05
    dues = [start + 0.03 * k for k in range(5)]
    for k, due in reversed(list(enumerate(dues))):
        sender.schedule(due, on(60 + k))
    port.wait_for(5)
    assert [m.note for m in port.sent] == [60, 61, 62, 63, 64]
    late = [at - due for at, due in zip(port.sent_at, dues, strict=True)]
    assert min(late) >= 0.0, late
    assert max(late) < 0.25, late  # loose: a loaded machine may delay a thread, never advance it


def test_stop_ends_every_sounding_note_and_drops_what_is_queued(port, make_sender):
    sender = make_sender(ManualClock(1.0))
    sender.schedule(0.0, on(64))
    sender.schedule(0.0, on(62, channel=3))
    sender.schedule(0.0, on(60))
    sender.schedule(0.0, on(67))
    sender.schedule(0.0, off(67))  # ended already
    sender.schedule(0.0, on(69, velocity=0))  # a note_on of velocity 0 is a note-off
    sender.schedule(5.0, on(72))  # not due before the stop: never sent
    sender.start()
    port.wait_for(6)
    started = time.monotonic()
    sender.stop()
    assert time.monotonic() - started < 3.0
    assert port.brief()[6:] == [brief(off(60)), brief(off(64)), brief(off(62, channel=3)),
                                ("cc", 0, ALL_NOTES_OFF), ("cc", 3, ALL_NOTES_OFF)]


def test_silence_drops_the_queue_ends_the_notes_and_the_sender_plays_on(port, make_sender):
    clock = ManualClock(1.0)
    sender = make_sender(clock)
    sender.start()
    sender.schedule(1.0, on(60))
    port.wait_for(1)
    sender.schedule(2.0, on(62))
    sender.silence()
    assert port.brief() == [brief(on(60)), brief(off(60)), ("cc", 0, ALL_NOTES_OFF)]
    clock.advance(1.5)
    time.sleep(QUIET)
    assert len(port.sent) == 3  # on(62) was dropped
    sender.schedule(2.5, on(64))
    port.wait_for(4)
    assert port.brief()[3] == brief(on(64))


def test_a_failed_send_is_reported_and_not_counted_as_sounding(port, errors, make_sender):
    port.broken.add(("note_on", 60))
    sender = make_sender(ManualClock(1.0))
    sender.schedule(0.0, on(60))
    sender.schedule(0.0, on(62))
    sender.start()
    port.wait_for(1)
    assert port.brief() == [brief(on(62))]
    assert [type(error) for error in errors] == [OSError]
    sender.stop()
    assert port.brief()[1:] == [brief(off(62)), ("cc", 0, ALL_NOTES_OFF)]


def test_notes_of_a_vanished_port_are_forgotten(port, make_sender):
    sender = make_sender(ManualClock(1.0))
    sender.schedule(0.0, on(60))
    sender.start()
    port.wait_for(1)
    sender.forget_sounding()
    sender.stop()
    assert port.brief() == [brief(on(60))]

"""What other laptops shared, kept for the phrase it belongs to."""

from __future__ import annotations

from ensemble.melody import Melody
from ensemble.peers.inbox import KEPT, Inbox
from ensemble.peers.wire import Share, SharedMelody


def share(beat: float, *melodies: tuple[str, str], sender: str = "alice", seq: int = 1) -> Share:
    return Share(sender, seq, beat, tuple(SharedMelody(agent, Melody.parse(text).notes)
                                          for agent, text in melodies))


def test_the_newest_share_before_the_phrase_is_taken() -> None:
    inbox = Inbox()
    inbox.put(share(8.0, ("a0", "C4 D4")))
    inbox.put(share(12.0, ("a0", "C4 E4"), seq=2))
    inbox.put(share(16.0, ("a0", "C4 F4"), seq=3))  # early: for the phrase after next
    assert inbox.take(16.0, {"alice/a0"}) == {"alice/a0": Melody.parse("C4 E4")}
    assert inbox.take(16.0, {"alice/a0"}) == {}  # taken already
    assert inbox.take(20.0, {"alice/a0"}) == {"alice/a0": Melody.parse("C4 F4")}


def test_before_any_share_of_its_phrase_nothing_is_taken_and_without_beats_the_newest() -> None:
    inbox = Inbox()
    inbox.put(share(8.0, ("a0", "C4 D4")))
    assert inbox.take(8.0, {"alice/a0"}) == {}
    assert inbox.take(None, {"alice/a0"}) == {"alice/a0": Melody.parse("C4 D4")}


def test_only_what_is_wanted_and_only_what_changed() -> None:
    inbox = Inbox()
    inbox.put(share(0.0, ("a0", "C4"), ("a1", "D4")))
    inbox.put(share(0.0, ("a0", "G4"), sender="bob"))
    assert inbox.take(1.0, {"bob/a0", "carol/a0"}) == {"bob/a0": Melody.parse("G4")}
    assert inbox.sharing() == ("alice/a0", "alice/a1", "bob/a0")
    inbox.put(share(1.0, ("a0", "C4"), ("a1", "E4"), seq=2))
    assert inbox.take(2.0, {"alice/a0", "alice/a1"}) == {"alice/a0": Melody.parse("C4"),
                                                          "alice/a1": Melody.parse("E4")}
    inbox.put(share(2.0, ("a0", "C4"), seq=3))  # the same again: nothing new for its followers
    assert inbox.take(3.0, {"alice/a0"}) == {}


def test_an_agent_keeps_its_last_few_shares() -> None:
    inbox = Inbox()
    for beat in range(KEPT + 5):
        inbox.put(share(float(beat), ("a0", f"C{1 + beat % 7}"), seq=beat + 1))
    # the oldest are gone: a phrase that far back takes nothing
    assert inbox.take(1.0, {"alice/a0"}) == {}
    assert inbox.take(KEPT + 5.0, {"alice/a0"}) == {"alice/a0": Melody.parse(f"C{1 + (KEPT + 4) % 7}")}


def test_of_two_with_one_stamp_the_last_to_come_and_without_beats_the_last_whatever_its_stamp() -> None:
    inbox = Inbox()
    inbox.put(share(8.0, ("a0", "C4 D4")))
    inbox.put(share(8.0, ("a0", "C4 E4"), seq=2))  # shared again within its phrase: it changed
    assert inbox.take(9.0, {"alice/a0"}) == {"alice/a0": Melody.parse("C4 E4")}
    inbox.put(share(0.0, ("a0", "G4 G4"), seq=3))  # alice restarted, counting from beat 0 again
    assert inbox.take(None, {"alice/a0"}) == {"alice/a0": Melody.parse("G4 G4")}


def test_a_share_overtaken_on_the_way_never_has_the_last_word() -> None:
    inbox = Inbox()
    inbox.put(share(12.0, ("a0", "C4 E4"), seq=7))
    inbox.put(share(8.0, ("a0", "C4 D4"), seq=6))  # sent before, came after
    assert inbox.take(None, {"alice/a0"}) == {"alice/a0": Melody.parse("C4 E4")}
    inbox.put(share(12.0, ("a0", "C4 F4"), seq=8))  # the same phrase shared again, changed
    inbox.put(share(12.0, ("a0", "C4 E4"), seq=7))  # ... and its first version, late
    assert inbox.take(13.0, {"alice/a0"}) == {"alice/a0": Melody.parse("C4 F4")}

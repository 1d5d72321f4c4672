"""The peer book: only listed addresses, only newer sequence numbers, everything refused counted."""

from __future__ import annotations

from ensemble.peers.book import QUIET, WINDOW, PeerBook, answer
from ensemble.peers.wire import Ping, Pong, Share, SharedMelody

ALICE = ("10.0.0.1", 9000)
STRANGER = ("10.0.0.9", 9000)


def share(seq: int, sender: str = "alice", agents: tuple[str, ...] = ("a0",)) -> Share:
    return Share(sender, seq, 8.0, tuple(SharedMelody(agent, (60, 62)) for agent in agents))


def test_a_listed_peer_is_heard_and_shown() -> None:
    book = PeerBook([ALICE])
    assert book.take(ALICE, share(1, agents=("a0", "a3")), now=10.0)
    [status] = book.status(now=11.5)
    assert (status.name, status.last_heard, status.agents) == ("alice", 1.5, ("a0", "a3"))
    assert not status.quiet
    assert status.line() == "alice at 10.0.0.1:9000: heard 1.5 s ago, shares a0 a3"
    assert book.named("alice") == ALICE and book.named("bob") is None


def test_an_unlisted_address_is_refused_and_counted() -> None:
    book = PeerBook([ALICE])
    assert not book.take(STRANGER, share(1), now=1.0)
    book.refuse(STRANGER, "forged")
    assert book.foreign == {"unlisted": 1, "forged": 1}
    assert book.status(now=1.0)[0].name is None


def test_a_replay_or_a_very_late_share_is_refused_and_one_overtaken_by_a_few_is_taken() -> None:
    book = PeerBook([ALICE])
    assert book.take(ALICE, share(100), now=1.0)
    assert not book.take(ALICE, share(100), now=2.0)  # the same datagram again
    assert book.take(ALICE, share(99), now=2.0)  # overtaken on the way by one
    assert not book.take(ALICE, share(99), now=2.0)  # ... and replayed
    assert not book.take(ALICE, share(100 - WINDOW), now=2.0)  # far too late (or a replay of then)
    assert book.take(ALICE, share(101), now=3.0)
    assert book.take(ALICE, Ping("alice", 1, 3.0), now=3.0)  # pings count on their own
    assert book.status(now=3.0)[0].refused == (("replayed or late", 3),)


def part(seq: int, beat: float, *agents: str) -> Share:
    return Share("alice", seq, beat, tuple(SharedMelody(agent, (60,)) for agent in agents))


def test_what_a_peer_shares_gathers_the_parts_of_its_newest_phrase() -> None:
    book = PeerBook([ALICE])
    assert book.take(ALICE, part(11, 8.0, "a16", "a17"), now=1.0)  # the second part came first
    assert book.take(ALICE, part(10, 8.0, "a0", "a1"), now=1.0)
    assert book.status(now=1.0)[0].agents == ("a0", "a1", "a16", "a17")
    assert book.take(ALICE, part(9, 4.0, "a0"), now=1.0)  # an older phrase's, overtaken
    assert book.status(now=1.0)[0].agents == ("a0", "a1", "a16", "a17")
    assert book.take(ALICE, part(12, 12.0, "a0"), now=1.0)
    assert book.status(now=1.0)[0].agents == ("a0",)


def test_a_listed_address_may_not_change_its_name() -> None:
    book = PeerBook([ALICE])
    assert book.take(ALICE, share(1), now=1.0)
    assert not book.take(ALICE, share(2, sender="mallory"), now=2.0)
    assert book.status(now=2.0)[0].refused == (("under another name", 1),)


def test_a_pong_gives_the_round_trip_and_silence_makes_a_peer_quiet() -> None:
    book = PeerBook([ALICE])
    pong = answer(Ping("me", 7, 100.0), "alice")
    assert pong == Pong("alice", 7, 100.0)
    assert book.take(ALICE, pong, now=100.012)
    status = book.status(now=100.012 + QUIET + 1)[0]
    assert abs(status.round_trip - 0.012) < 1e-9 and status.quiet
    assert "(quiet), round trip 12.0 ms" in status.line()


def test_peers_are_added_and_removed() -> None:
    book = PeerBook()
    assert book.add(ALICE) and not book.add(ALICE)
    assert book.addresses() == [ALICE]
    assert book.remove(ALICE) and not book.remove(ALICE)
    assert book.status(now=0.0) == []

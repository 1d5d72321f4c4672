"""This laptop in a band of laptops, with the real sockets of laptops made by the test (network
namespaces on a private bridge, never the machine's own network): what the session shares
arrives for the phrase it belongs to, quiet peers are said once, and what strangers send, or
send in a listed laptop's name, is counted and ignored."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable, Iterator

import pytest
from support.laptops import Laptop, Laptops

from ensemble.melody import Melody
from ensemble.peers.band import PER_SHARE, Band
from ensemble.peers.wire import Share, SharedMelody, encode

PORT = 7400
KEY = b"the band's secret"
TUNE = Melody.parse("D4 G4 A4 B4 A4")
SWUNG = Melody((62, 67), (12, 4))  # ticks


def wait_for(what: Callable[[], object], seconds: float = 10.0) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError(f"not within {seconds} s: {what}")


@pytest.fixture
def lan() -> Iterator[Laptops]:
    with Laptops(["alice", "bob", "carol"]) as laptops:
        yield laptops


MakeBand = Callable[[str, list[str]], Band]


@pytest.fixture
def band(lan: Laptops) -> Iterator[MakeBand]:
    """Makes a laptop's band (signed with KEY), listing the others named; all closed at the end."""
    made: list[Band] = []

    def make(name: str, peers: list[str]) -> Band:
        laptop = lan[name]
        made.append(laptop.call(lambda: Band(name, (laptop.address, PORT),
                                             [(lan[peer].address, PORT) for peer in peers], KEY)))
        return made[-1]

    yield make
    for each in made:
        each.close()


def test_a_share_arrives_for_the_phrase_after_the_one_it_was_learned_in(lan: Laptops,
                                                                          band: MakeBand) -> None:
    alice, bob = band("alice", ["bob"]), band("bob", ["alice"])
    # one Link timeline: alice's beat 8 and bob's beat 0 are both its beat 100
    alice.beat_offset, bob.beat_offset = (lambda: 92.0), (lambda: 100.0)
    alice.share(8.0, {"a0": TUNE, "a1": SWUNG})
    wait_for(lambda: len(bob.sharing()) == 2)
    assert bob.sharing() == ("alice/a0", "alice/a1")
    assert bob.take(0.0, {"alice/a0"}) == {}  # learned in the phrase bob plays at the same time
    assert bob.take(5.0, {"alice/a0", "alice/a1", "alice/a9"}) == {"alice/a0": TUNE, "alice/a1": SWUNG}
    assert bob.take(10.0, {"alice/a0"}) == {}  # nothing new: its followers keep what they have
    changed = Melody.parse("D4 G4 A4 B4 B4")
    alice.share(13.0, {"a0": changed})
    wait_for(lambda: bob.take(20.0, {"alice/a0"}) == {"alice/a0": changed})
    wait_for(lambda: "round trip" in bob.lines()[1])  # pings answered
    assert bob.lines()[0] == f"bob, listening on {lan['bob'].address}:{PORT}"
    assert bob.lines()[1].startswith(f"  alice at {lan['alice'].address}:{PORT}: heard ")
    assert bob.lines()[1].endswith("shares a0")
    assert bob.toolbar() == "peers alice"


def test_without_a_shared_timeline_the_newest_share_is_taken(band: MakeBand) -> None:
    alice, bob = band("alice", ["bob"]), band("bob", ["alice"])
    alice.share(40.0, {"a0": TUNE})  # alice's own beats: nothing to compare with bob's
    wait_for(lambda: bob.take(0.0, {"alice/a0"}) == {"alice/a0": TUNE})


def test_many_agents_go_in_several_datagrams_and_long_melodies_are_cut(band: MakeBand) -> None:
    alice, bob = band("alice", ["bob"]), band("bob", ["alice"])
    long = Melody(tuple(60 + step % 12 for step in range(70)))
    alice.share(0.0, {f"a{n}": TUNE for n in range(PER_SHARE + 4)} | {"a99": long})
    wait_for(lambda: len(bob.sharing()) == PER_SHARE + 5)
    taken = bob.take(1.0, {"alice/a99", "alice/a19"})
    assert taken == {"alice/a99": Melody(long.notes[:64]), "alice/a19": TUNE}
    assert alice.drain_messages() == ["peers: melodies longer than 64 steps are shared cut to 64"]


def test_a_quiet_peer_is_said_once_and_its_return_too(band: MakeBand) -> None:
    alice, bob = band("alice", ["bob"]), band("bob", ["alice"])
    alice.share(0.0, {"a0": TUNE})
    wait_for(lambda: bob.sharing())
    alice.close()
    said: list[str] = []
    wait_for(lambda: said.extend(bob.drain_messages()) or said, seconds=15)
    assert said == ["peers: alice went quiet: its followers here keep its last melody"]
    assert bob.toolbar() == "peers alice(quiet)"
    assert bob.take(0.5, {"alice/a0"}) == {"alice/a0": TUNE}  # still there to be copied
    alice = band("alice", ["bob"])  # restarted: its numbers and beats start again
    changed = Melody.parse("D4 G4 A4 B4 B4")
    alice.share(0.0, {"a0": changed})
    wait_for(lambda: bob.take(0.5, {"alice/a0"}) == {"alice/a0": changed}, seconds=2)
    wait_for(lambda: said.extend(bob.drain_messages()) or len(said) > 1, seconds=10)
    assert said[1:] == ["peers: alice is back"]


def test_strangers_and_forgeries_are_counted_and_ignored(lan: Laptops, band: MakeBand) -> None:
    bob = band("bob", ["alice"])
    carol = lan["carol"]
    share = Share("alice", 1, 0.0, (SharedMelody("a0", (72, 72, 72)),))
    # from carol's own address, unlisted, with the right key even
    stranger = carol.socket()
    stranger.sendto(encode(share, KEY), (lan["bob"].address, PORT))
    # in alice's name, from alice's address (carol forges the source), without the key
    spoof(carol, lan["alice"].address, lan["bob"].address, encode(share, None))
    spoof(carol, lan["alice"].address, lan["bob"].address, encode(share, b"a guess"))
    spoof(carol, lan["alice"].address, lan["bob"].address, encode(share, KEY)[:-5])
    stranger.sendto(bytes(9000), (lan["bob"].address, PORT))  # the last one sent
    wait_for(lambda: "oversized" in "".join(bob.lines()))
    lines = bob.lines()
    assert lines[1] == (f"  ? at {lan['alice'].address}:{PORT}: never heard, "
                        "1 forged, 1 malformed, 1 unsigned")
    assert lines[2] == "  refused from unlisted addresses: 1 oversized, 1 unlisted"
    assert bob.sharing() == () and bob.take(1.0, {"alice/a0"}) == {}
    stranger.close()


def spoof(laptop: Laptop, source: str, destination: str, payload: bytes) -> None:
    """One UDP datagram sent from `laptop` with someone else's source address (a raw socket
    writing its own IP header): what a stranger on the LAN can do."""
    udp = struct.pack("!HHHH", PORT, PORT, 8 + len(payload), 0)  # checksum 0: none, allowed in IPv4
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp) + len(payload), 0, 0, 64,
                         socket.IPPROTO_UDP, 0, socket.inet_aton(source), socket.inet_aton(destination))
    raw = laptop.call(lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW))
    try:
        raw.sendto(header + udp + payload, (destination, 0))
    finally:
        raw.close()

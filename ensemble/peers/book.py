"""Who we play with: the listed peers, what each has said and when, and what was refused.

Pure bookkeeping, fed by the receiving thread and read (as snapshots) by the REPL's `peers`
and the toolbar. A datagram is taken only from a listed address; from each sender, shares and
pings only with a sequence number not taken before and within WINDOW of the highest taken (as
IPsec's anti-replay window does): a replay is refused, and so is one that comes very late, but
one overtaken on the way by a few (the parts of one phrase's share, reordered) is still taken;
the inbox orders what it takes by beat and number, so a late one never has the last word.
Everything refused is counted, by why.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from ensemble.peers.names import Address
from ensemble.peers.wire import Message, Ping, Pong, Share

QUIET = 5.0  # seconds without a word after which a peer counts as quiet
WINDOW = 64  # sequence numbers: how far behind the highest taken a datagram may still be taken


@dataclass(frozen=True)
class PeerStatus:
    """One listed peer, as `peers` shows it."""

    address: Address
    name: str | None  # as it calls itself; None until heard
    last_heard: float | None  # seconds ago; None if never
    round_trip: float | None  # seconds, the last ping's
    agents: tuple[str, ...]  # what it shared last
    quiet: bool
    refused: tuple[tuple[str, int], ...]  # (why, how many) of what it sent

    def line(self) -> str:
        host, port = self.address
        who = self.name or "?"
        heard = "never heard" if self.last_heard is None else f"heard {self.last_heard:.1f} s ago"
        trip = "" if self.round_trip is None else f", round trip {self.round_trip * 1e3:.1f} ms"
        shares = f", shares {' '.join(self.agents)}" if self.agents else ""
        quiet = " (quiet)" if self.quiet and self.last_heard is not None else ""
        refused = "".join(f", {count} {why}" for why, count in self.refused)
        return f"{who} at {host}:{port}: {heard}{quiet}{trip}{shares}{refused}"


@dataclass
class _Peer:
    name: str | None = None
    last_heard: float | None = None
    round_trip: float | None = None
    taken: dict[str, set[int]] = field(default_factory=dict)  # per kind, the numbers within the window
    agents: tuple[str, ...] = ()
    agents_beat: float | None = None  # the beat of the share(s) `agents` come from
    refused: Counter[str] = field(default_factory=Counter)


class PeerBook:
    """The listed peers and their state; safe from any thread."""

    def __init__(self, addresses: Iterable[Address] = ()) -> None:
        self._lock = threading.Lock()
        self._peers: dict[Address, _Peer] = {address: _Peer() for address in addresses}
        self.foreign: Counter[str] = Counter()  # datagrams from unlisted addresses, by why

    def add(self, address: Address) -> bool:
        """Lists `address`; False if it was listed already."""
        with self._lock:
            if address in self._peers:
                return False
            self._peers[address] = _Peer()
            return True

    def remove(self, address: Address) -> bool:
        """Unlists `address`; False if it was not listed."""
        with self._lock:
            return self._peers.pop(address, None) is not None

    def addresses(self) -> list[Address]:
        with self._lock:
            return list(self._peers)

    def take(self, source: Address, message: Message, now: float) -> bool:
        """Whether `message`, from `source`, is to be acted on; it is noted either way."""
        with self._lock:
            peer = self._peers.get(source)
            if peer is None:
                self.foreign["unlisted"] += 1
                return False
            if peer.name is not None and message.sender != peer.name:
                peer.refused["under another name"] += 1
                return False
            taken = peer.taken.setdefault(type(message).__name__, set())
            if taken and (message.seq <= max(taken) - WINDOW or message.seq in taken):
                peer.refused["replayed or late"] += 1
                return False
            peer.name, peer.last_heard = message.sender, now
            taken.add(message.seq)
            oldest = max(taken) - WINDOW
            taken.difference_update([seq for seq in taken if seq <= oldest])
            if isinstance(message, Share):
                _note_agents(peer, message)
            elif isinstance(message, Pong):
                peer.round_trip = max(0.0, now - message.sent_at)
            return True

    def refuse(self, source: Address, why: str) -> None:
        """Counts a datagram from `source` refused before it was a message (see wire.WireError)."""
        with self._lock:
            peer = self._peers.get(source)
            if peer is None:
                self.foreign[why] += 1
            else:
                peer.refused[why] += 1

    def named(self, name: str) -> Address | None:
        """The address of the peer that calls itself `name`, once heard."""
        with self._lock:
            return next((address for address, peer in self._peers.items() if peer.name == name), None)

    def status(self, now: float) -> list[PeerStatus]:
        with self._lock:
            return [
                PeerStatus(address, peer.name,
                           None if peer.last_heard is None else now - peer.last_heard,
                           peer.round_trip, peer.agents,
                           peer.last_heard is None or now - peer.last_heard > QUIET,
                           tuple(sorted(peer.refused.items())))
                for address, peer in self._peers.items()
            ]


def _note_agents(peer: _Peer, share: Share) -> None:
    """What the peer shares: the agents of its newest phrase, gathered from every part of it (a
    laptop with many agents sends several datagrams a phrase); an older phrase's is passed over."""
    agents = {melody.agent for melody in share.melodies}
    if peer.agents_beat is not None and share.beat < peer.agents_beat:
        return
    if share.beat == peer.agents_beat:
        agents |= set(peer.agents)
    peer.agents = tuple(sorted(agents, key=lambda agent: int(agent[1:])))
    peer.agents_beat = share.beat


def answer(ping: Ping, name: str) -> Pong:
    """The pong that answers `ping`: our name, its seq and its clock."""
    return Pong(name, ping.seq, ping.sent_at)

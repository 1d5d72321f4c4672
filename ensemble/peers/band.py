"""This laptop in a laptop ensemble: what the session shares and takes, the peers' book, and the
lines the performer sees (`peers`, the toolbar, a peer going quiet or coming back).

The session hands over its agents' greedy melodies once a phrase (`share`) and asks, before
each phrase, for what the agents it follows on other laptops shared (`take`); both in its own
beats, which `beat_offset` (the runner's: the followed timeline's, Link's) turns into the
shared timeline's. Nothing here waits on the network: a send is one datagram per few agents, a
take reads what the receiving thread has put in the inbox.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from ensemble.melody import Melody
from ensemble.messages import Talks
from ensemble.peers.book import PeerBook
from ensemble.peers.endpoint import PeerEndpoint
from ensemble.peers.inbox import Inbox
from ensemble.peers.names import AGENT_NAME, Address, address_text
from ensemble.peers.wire import MAX_NOTES, SharedMelody

PING_EVERY = 1.0  # seconds: round trips, and a peer's silence noticed within about this
PER_SHARE = 16  # melodies a datagram: 16 of 64 rhythmic notes take 3,484 bytes (wire.MAX_DATAGRAM 8192)


class Band(Talks):
    """Listens on `listen` as `me`, plays with `peers`; `key` signs and checks every datagram."""

    name = "peers"

    def __init__(self, me: str, listen: Address, peers: Iterable[Address], key: bytes | None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.me, self.clock = me, clock
        self.book = PeerBook(peers)
        self.inbox = Inbox()
        self.endpoint = PeerEndpoint(me, listen, self.book, key, self.inbox.put, clock)
        self.beat_offset: Callable[[], float | None] = lambda: None
        self._quiet: set[Address] = set()  # peers said to have gone quiet
        self._cut_said = False
        self._stop = threading.Event()
        self._pinger = threading.Thread(target=self._keep_in_touch, name="peers-pinger", daemon=True)
        self._pinger.start()

    # -- the session's side ------------------------------------------------------------------------

    def take(self, beat: float, wanted: set[str]) -> dict[str, Melody]:
        offset = self.beat_offset()
        return self.inbox.take(None if offset is None else beat + offset, wanted)

    def share(self, beat: float, melodies: dict[str, Melody]) -> None:
        offset = self.beat_offset()
        stamp = max(0.0, beat if offset is None else beat + offset)
        shared = [self._shared(agent, melody) for agent, melody in melodies.items()
                  if AGENT_NAME.fullmatch(agent)]  # a0..a999 travel
        for first in range(0, len(shared), PER_SHARE):
            self.endpoint.share(stamp, tuple(shared[first:first + PER_SHARE]))

    def _shared(self, agent: str, melody: Melody) -> SharedMelody:
        if len(melody) > MAX_NOTES and not self._cut_said:
            self._cut_said = True
            self.report(f"melodies longer than {MAX_NOTES} steps are shared cut to {MAX_NOTES}")
        lengths = None if melody.lengths is None else melody.lengths[:MAX_NOTES]
        return SharedMelody(agent, melody.notes[:MAX_NOTES], lengths)

    # -- the performer's side -----------------------------------------------------------------------

    def add(self, address: Address) -> str:
        if self.book.add(address):
            return f"peer {address_text(address)} added: we share with it, and take what it shares"
        return f"peer {address_text(address)} is listed already"

    def remove(self, address: Address) -> str:
        if self.book.remove(address):
            self._quiet.discard(address)
            return f"peer {address_text(address)} removed: its followers here keep its last melody"
        return f"no peer {address_text(address)} (peers: {self._listed()})"

    def lines(self) -> list[str]:
        """`peers`: us, then each listed peer, then what strangers sent."""
        lines = [f"{self.me}, listening on {address_text(self.endpoint.address)}"]
        lines += [f"  {status.line()}" for status in self.book.status(self.clock())] or ["  no peers listed"]
        foreign = ", ".join(f"{count} {why}" for why, count in sorted(self.book.foreign.items()))
        return lines + ([f"  refused from unlisted addresses: {foreign}"] if foreign else [])

    def toolbar(self) -> str:
        """Who is heard, and who went quiet: `peers bob carol(quiet)`."""
        words = [f"{status.name or address_text(status.address)}{'(quiet)' if status.quiet else ''}"
                 for status in self.book.status(self.clock())]
        return "peers " + (" ".join(words) if words else "none")

    def sharing(self) -> tuple[str, ...]:
        return self.inbox.sharing()

    def close(self) -> None:
        self._stop.set()
        self._pinger.join(PING_EVERY + 1.0)
        self.endpoint.close()

    def drain_messages(self) -> list[str]:
        return self.endpoint.drain_messages() + super().drain_messages()

    # -- in the background ---------------------------------------------------------------------------

    def _keep_in_touch(self) -> None:
        while not self._stop.wait(PING_EVERY):
            self.endpoint.ping()
            self._say_who_went_quiet()

    def _say_who_went_quiet(self) -> None:
        for status in self.book.status(self.clock()):
            who = status.name or address_text(status.address)
            if status.last_heard is None:
                continue
            if status.quiet and status.address not in self._quiet:
                self._quiet.add(status.address)
                self.report(f"{who} went quiet: its followers here keep its last melody")
            elif not status.quiet and status.address in self._quiet:
                self._quiet.discard(status.address)
                self.report(f"{who} is back")

    def _listed(self) -> str:
        return ", ".join(address_text(address) for address in self.book.addresses()) or "none"

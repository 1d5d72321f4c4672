"""Inside a private network namespace: two endpoints (alice, bob) on its loopback, each listing
the other, and a stranger. Alice shares, bob pings; the stranger sends a well-formed share from
an unlisted address, and one signed with the wrong key from bob's. Prints one JSON object."""

from __future__ import annotations

import json
import socket
import time

from ensemble.peers.book import PeerBook
from ensemble.peers.endpoint import PeerEndpoint
from ensemble.peers.wire import Share, SharedMelody, encode

KEY = b"the band's secret"
ALICE, BOB = ("127.0.0.1", 9101), ("127.0.0.1", 9102)


def main() -> None:
    heard: list[dict[str, object]] = []
    alice_book, bob_book = PeerBook([BOB]), PeerBook([ALICE])
    alice = PeerEndpoint("alice", ALICE, alice_book, KEY, on_share=lambda share: None)
    bob = PeerEndpoint("bob", BOB, bob_book, KEY, on_share=lambda share: heard.append(
        {"sender": share.sender, "beat": share.beat,
         "melodies": [[m.agent, list(m.notes), list(m.lengths or ())] for m in share.melodies]}))
    stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    stranger.bind(("127.0.0.1", 9103))
    try:
        alice.share(8.0, (SharedMelody("a0", (60, 62, -1, 67), (4, 4, 4, 4)), SharedMelody("a3", (72,))))
        bob.ping()
        stranger.sendto(encode(Share("mallory", 99, 8.0, (SharedMelody("a0", (1,)),)), KEY), ALICE)
        stranger.sendto(encode(Share("bob", 100, 8.0, ()), b"a wrong key"), ALICE)
        stranger.sendto(b"\x00" * 20000, ALICE)
        deadline = time.monotonic() + 5.0

        def done() -> bool:
            return bool(heard) and bob_book.status(time.monotonic())[0].round_trip is not None

        while not done() and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)
        now = time.monotonic()
        print(json.dumps({"heard": heard, "bob sees": [s.line() for s in bob_book.status(now)],
                          "alice sees": [s.line() for s in alice_book.status(now)],
                          "alice foreign": dict(alice_book.foreign)}))
    finally:
        stranger.close()
        alice.close()
        bob.close()


if __name__ == "__main__":
    main()

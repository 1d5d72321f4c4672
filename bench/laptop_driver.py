"""One laptop of bench/laptops.py: a real Session and Band, composing a phrase every `--period`
seconds of its own monotonic clock, as the conductor composes ahead, but with no conductor and
no sound (no Glicol, no JACK): composing, sharing and taking are what the bench measures.

Run inside a laptop's network namespace. It builds its agents, prints `{"event": "ready"}` and
waits for one line `start T0` on stdin (T0 on CLOCK_MONOTONIC, which every namespace shares).
Then, at T0 + OFFSET - PERIOD, it shares the greedy melodies its agents start with (what a
follower on one laptop copies in the first phrase), and at T0 + OFFSET + k * PERIOD composes
phrase k, printing one JSON line per phrase. On `stop` (or end of input) it prints a summary
(every share it sent, every share it received, the datagrams it sent, what its book refused)
and ends.

Hooks of the bench's own, none in ensemble: the session's `outside` is the Band wrapped to time
each share and to note, before each phrase, which share of the laptop it follows was the newest
received; the endpoint's share handler is wrapped to time each share once it is in the inbox.
What was sent is the endpoint's own count (datagrams and bytes by message).

`laptop_session` is also what bench/laptops.py builds its one-laptop and lockstep chains with,
so that every chain learns with the same commands.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
from typing import Any

from ensemble.commands import Where, parse_command
from ensemble.melody import Melody
from ensemble.peers.band import Band
from ensemble.peers.names import outside_agent, parse_address
from ensemble.peers.wire import Share
from ensemble.session import Session

SEED_MELODY = "C4 E4 G4 C5 G4 E4 D4 _"
SETTINGS = "practice=16"  # learning settings beside the defaults: a 64-agent chain in ~35 phrases
KEY = b"the laptops bench"  # every datagram signed, as on stage
Received = tuple[str, float, int, float]  # sender, beat, seq, monotonic time it was in the inbox


def laptop_session(rng_seed: int, agents: int, follow: str | None) -> Session:
    """A session with the seed, the settings and `agents` agents (the first copying `follow`, an
    agent on another laptop, or the seed), all applied before the first phrase. Its first phrase
    starts one phrase in, so that the melodies it starts with are shared stamped below it (beat
    0): an inbox takes the highest stamp, and of equal stamps the first received."""
    session = Session(seed=rng_seed)
    spawn = f"spawn {agents}" + ("" if follow is None else f" follow {follow}")
    for line in (f"seed {SEED_MELODY}", f"set all {SETTINGS}", spawn):
        command = parse_command(line, Where.SCRIPT)
        assert command is not None
        session.apply(command)
    session.beat = phrase_beats(session)
    return session


def phrase_beats(session: Session) -> float:
    return len(session.chain.melody) * session.step_beats


def last_agent_plays_seed(session: Session) -> bool:
    """Whether the chain's last agent's greedy melody is the seed, note for note."""
    return session.chain.greedy(session.chain.names[-1]) == session.chain.melody.notes


class TracedBand:
    """The session's `outside`: the Band, with each share timed and, before each phrase, the
    stamp of the newest share received from the laptop followed."""

    def __init__(self, band: Band, followed: str | None, received: list[Received]) -> None:
        self.band = band
        self.followed = followed
        self.received = received  # appended to by the receiving thread
        self.sent: list[tuple[float, float]] = []  # (beat, monotonic time the share began)
        self.newest_taken: float | None = None  # the newest followed share's beat at the last take

    def take(self, beat: float, wanted: set[str]) -> dict[str, Melody]:
        stamps = [stamp for sender, stamp, _, _ in list(self.received) if sender == self.followed]
        self.newest_taken = max(stamps) if stamps else None
        return self.band.take(beat, wanted)

    def share(self, beat: float, melodies: dict[str, Melody]) -> None:
        self.sent.append((beat, time.monotonic()))
        self.band.share(beat, melodies)


def traced(band: Band, followed: str | None) -> TracedBand:
    """The band as the session's outside, noting each share it sends and when each share it
    receives is in the inbox."""
    received: list[Received] = []
    endpoint = band.endpoint
    put = endpoint.on_share

    def on_share(share: Share) -> None:
        put(share)
        received.append((share.sender, share.beat, share.seq, time.monotonic()))  # now in the inbox

    endpoint.on_share = on_share
    return TracedBand(band, followed, received)


def emit(event: dict[str, Any]) -> None:
    print(json.dumps(event), flush=True)


def play(session: Session, outside: TracedBand, start: float, period: float, offset: float,
         max_phrases: int, stop: threading.Event) -> None:
    """The pre-share, then phrase after phrase on this laptop's clock until `stop` or the last."""
    beats = phrase_beats(session)
    if stop.wait(max(0.0, start + offset - period - time.monotonic())):
        return
    outside.share(0.0, session.chain.greedy_melodies())
    for k in range(max_phrases):
        due = start + offset + k * period
        if stop.wait(max(0.0, due - time.monotonic())):
            return
        began = time.monotonic()
        beat = session.beat
        session.next_phrase()
        newest = outside.newest_taken
        behind = None if newest is None or outside.followed is None else round((beat - newest) / beats)
        emit({"event": "phrase", "k": k, "due": due, "began": began, "composed": time.monotonic(),
              "beat": beat, "last_ok": last_agent_plays_seed(session),
              "behind": behind})


def stop_at_end_of_input(stop: threading.Event) -> None:
    """The bench writes `stop` and closes our input; either way, we stop at its end."""
    sys.stdin.read()
    stop.set()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--listen", type=parse_address, required=True)
    parser.add_argument("--peer", type=parse_address, action="append", default=[])
    parser.add_argument("--follow", help="PEER/AGENT the first agent copies (none: the seed)")
    parser.add_argument("--agents", type=int, default=16)
    parser.add_argument("--rng-seed", type=int, default=0)
    parser.add_argument("--period", type=float, default=0.3, help="seconds between phrases")
    parser.add_argument("--offset", type=float, default=0.0, help="seconds after T0 of phrase 0")
    parser.add_argument("--max-phrases", type=int, default=200)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    followed = None
    if args.follow is not None:
        target = outside_agent(args.follow)
        if target is None:
            parser.error(f"--follow {args.follow}: not PEER/AGENT")
        followed = target[0]
    session = laptop_session(args.rng_seed, args.agents, args.follow)
    band = Band(args.name, args.listen, args.peer, KEY)
    outside = traced(band, followed)
    session.outside = outside
    stop = threading.Event()
    try:
        emit({"event": "ready", "name": args.name})
        words = sys.stdin.readline().split()
        if len(words) != 2 or words[0] != "start":
            return
        threading.Thread(target=stop_at_end_of_input, args=(stop,), daemon=True).start()
        play(session, outside, float(words[1]), args.period, args.offset, args.max_phrases, stop)
        stop.wait()
        status = band.book.status(time.monotonic())
        emit({"event": "summary", "sent": outside.sent, "received": outside.received,
              "datagrams": dict(band.endpoint.datagrams_sent), "bytes": dict(band.endpoint.bytes_sent),
              "refused": {f"{s.address[0]}:{s.address[1]}": dict(s.refused) for s in status},
              "foreign": dict(band.book.foreign), "messages": band.drain_messages()})
    finally:
        band.close()


if __name__ == "__main__":
    main()

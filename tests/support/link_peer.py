"""One Link peer for tests/test_link.py: prints JSON lines (run only inside a private netns)."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time

from ensemble.sync.link import LinkSession

_SAYING = threading.Lock()  # Link's callbacks say from aalink's thread: one line at a time


def say(**fields: object) -> None:
    with _SAYING:
        print(json.dumps(fields), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--tempo", type=float, required=True)
    parser.add_argument("--quantum", type=float, default=8.0)
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--set-tempo", type=float, default=None)
    parser.add_argument("--set-at", type=float, default=2.0, help="seconds after the peer is found")
    parser.add_argument("--start-playing", action="store_true")
    args = parser.parse_args()
    with LinkSession(args.tempo, args.quantum) as link:
        link.on_tempo(lambda bpm: say(name=args.name, event="tempo", bpm=bpm, t=time.monotonic()))
        link.on_playing(lambda on: say(name=args.name, event="playing", on=on, t=time.monotonic()))
        joined = time.monotonic()
        link.enable(start_stop_sync=True)
        while link.peers < 1:
            if time.monotonic() - joined > 5:
                say(name=args.name, event="alone")
                sys.exit(1)
            time.sleep(0.005)
        found = time.monotonic()
        say(name=args.name, event="found", t=found, after=found - joined)
        changed = False
        while (now := time.monotonic()) < found + args.duration:
            if args.set_tempo is not None and not changed and now >= found + args.set_at:
                link.tempo = args.set_tempo
                if args.start_playing:
                    link.playing = True
                say(name=args.name, event="set", bpm=args.set_tempo, t=time.monotonic())
                changed = True
            t, beat, phase, bpm = link.snapshot()
            say(name=args.name, event="sample", t=t, beat=beat, phase=phase, bpm=bpm,
                next=link.next_boundary(), quantum=link.quantum, playing=link.playing)
            time.sleep(0.05)


if __name__ == "__main__":
    main()

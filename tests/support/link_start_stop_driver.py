"""Inside a private network namespace: a Link peer (the band, start/stop sync on, stopped) and a
performance that follows it with `--link-start-stop`. The band plays, stops, plays again; prints
one JSON object: when each of those happened, and when each note was due."""

from __future__ import annotations

import json
import time

from ensemble.clock import RealtimeClock
from ensemble.performance.runner import Runner
from ensemble.performance.script import parse_script
from ensemble.performance.sources import script_source
from ensemble.sync import follow
from ensemble.sync.link import LinkSession
from support.listener import Listener

SCRIPT = "step 0.5\nseed C4 E4 G4 C5\nspawn 1\nwait 40\n"


def main() -> None:
    band = LinkSession(tempo=100.0, quantum=2.0)
    band.enable(start_stop_sync=True)
    time.sleep(1.0)  # the band's session is there first: ours joins it and takes its tempo
    listener = Listener()
    runner = Runner(script_source(parse_script(SCRIPT), 0, "band test"), [listener], RealtimeClock(),
                    lookahead=0.1, follow=follow.link(120.0, 2.0, start_stop=True))
    runner.start()
    ours = runner.follow.beats if runner.follow is not None else None
    times = {}
    for event, playing, after in (("play", True, 1.5), ("stop", False, 3.0), ("again", True, 1.5)):
        time.sleep(after)
        times[event] = time.monotonic()
        band.playing = playing
        deadline = time.monotonic() + 1.0  # when our peer heard it: Link's own time is not ours to test
        while ours is not None and ours.reading().playing != playing and time.monotonic() < deadline:
            time.sleep(0.002)
        times[f"{event} heard"] = time.monotonic()
    time.sleep(2.0)
    runner.stop()
    band.close()
    print(json.dumps({"times": times, "dues": [note.due for note in listener.notes]}))


if __name__ == "__main__":
    main()

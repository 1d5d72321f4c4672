"""Inside a private network namespace: a Link peer (the band, at 90 bpm) and a stage whose
performer types `link on`, `tempo 140`, `link off`. Prints one JSON object: the replies, when
each phrase's note was due, and the band's quantum boundaries and tempo as it saw them."""

from __future__ import annotations

import json
import time

from ensemble.clock import RealtimeClock
from ensemble.stage import Stage
from ensemble.sync.link import LinkSession
from support.listener import Listener

SETUP = ["step 0.5", "seed C4 _ _ _", "set all palette=chromatic:C4-B4 epsilon=0 alpha=1", "spawn 1",
         "train a0 60"]


def main() -> None:
    band = LinkSession(tempo=90.0, quantum=2.0)
    band.enable()
    listener = Listener()
    stage = Stage([listener], RealtimeClock(), seed=0, lookahead=0.1)
    replies = [stage.type(line) for line in SETUP]
    boundaries: list[tuple[float, float, float]] = []  # (when, the band's next boundary, its tempo)

    def watch(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            boundaries.append((time.monotonic(), band.next_boundary(), band.tempo))
            time.sleep(0.05)

    stage.start()
    watch(2.5)
    typed = {"link on": time.monotonic()}
    replies.append(stage.type("link on"))
    watch(5.5)
    typed["tempo 140"] = time.monotonic()
    replies.append(stage.type("tempo 140"))
    watch(4.0)
    typed["link off"] = time.monotonic()
    replies.append(stage.type("link off"))
    watch(3.0)
    stage.stop()
    band.close()
    dues = [note.due for note in listener.notes if note.event.agent == "a0"]
    print(json.dumps({"replies": replies, "typed": typed, "dues": dues, "boundaries": boundaries}))


if __name__ == "__main__":
    main()

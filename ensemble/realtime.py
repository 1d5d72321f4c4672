"""What a live output does to the interpreter so that its time-critical thread gets the GIL soon.

Two things can keep a waiting thread off the GIL for longer than a 5.8 ms sound-card period:
Python's switch interval (5 ms by default) and a full garbage collection, which walks every
object and holds the GIL throughout (about 8 ms here, just after start-up's imports). The
switch interval is shortened, and start-up's objects, which live as long as the program, are
moved out of the collector's sight, so that later full collections walk only what playing made.
"""

from __future__ import annotations

import gc
import sys

SWITCH_INTERVAL = 0.0005  # seconds a thread may hold the GIL while another waits for it


def prepare_interpreter() -> None:
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
    gc.collect()
    gc.freeze()

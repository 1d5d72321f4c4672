"""Live outputs prepare the interpreter so that their time-critical thread gets the GIL soon."""

import gc
import sys

from ensemble.realtime import SWITCH_INTERVAL, prepare_interpreter


def test_after_preparing_a_full_collection_leaves_start_up_objects_alone():
    interval = sys.getswitchinterval()
    try:
        prepare_interpreter()
        assert sys.getswitchinterval() <= SWITCH_INTERVAL
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # everything imported so far
        assert len(gc.get_objects(generation=2)) < frozen / 100
    finally:
        gc.unfreeze()
        sys.setswitchinterval(interval)

"""libjack keeps its complaints to itself: the performer reads ours.

When a JACK server goes, libjack prints three lines of its own to stderr for each of our
clients (`Cannot read socket fd = 7 err = Success`, `CheckRes error`, `JackSocketClientChannel
read fail`) around the one line the MIDI output says, and more when a client cannot open.
libjack takes a function for its messages instead (`jack_set_error_function`,
`jack_set_info_function`); the one given here drops them, as `_quiet_c_stderr` drops libasound's.

It is a C function, not a Python one, on purpose: libjack calls it from its own threads, and a
Python callback would make them wait for the GIL, held perhaps by our thread closing that very
client (libjack cancels and joins its threads as it closes one), or gone at exit.
"""

from __future__ import annotations

import ctypes
import threading

_tried = False
_silenced = False
_lock = threading.Lock()


def silence() -> None:
    """Once a process, for the libjack python-rtmidi uses; where that cannot be reached (no
    rtmidi, no JACK in it), libjack's messages stay where they were."""
    global _tried, _silenced
    with _lock:
        if _tried:
            return
        _tried = True
        try:
            import rtmidi._rtmidi as extension

            # The extension's handle finds libjack among its dependencies, whichever copy it is.
            libjack = ctypes.CDLL(extension.__file__)
            setters = (libjack.jack_set_error_function, libjack.jack_set_info_function)
            # libjack wants a `void (*)(const char *)`. libc's strlen has that shape and does
            # nothing else (its result is ignored): a callback that never needs Python.
            drop = ctypes.cast(ctypes.CDLL(None).strlen, ctypes.c_void_p)
        except (ImportError, OSError, AttributeError):
            return
        for setter in setters:
            setter(drop)
        _silenced = True


def silenced() -> bool:
    """Whether libjack's messages are dropped (and so never reach file descriptor 2)."""
    return _silenced

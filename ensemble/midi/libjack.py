"""The few calls of libjack's C API a MIDI input needs, through ctypes: a client, one MIDI input
port, its events in the process callback (timed by cycle_clock.py), output ports listed and
connected to.

Our own binding rather than RtMidi's JACK input: RtMidi 5.0 (python-rtmidi 1.5.8) was seen to
crash the process in its JACK input thread, copying an event, during storms of missed JACK
cycles. But the same libjack as RtMidi's (see `_load`). Only the reader process (jack_reader.py)
loads this.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import time
from collections.abc import Callable, Iterator

from ensemble.midi.cycle_clock import CycleClock

MIDI_TYPE = b"8 bit raw midi"
NO_START_SERVER = 0x01  # JackNoStartServer
PORT_IS_INPUT = 0x1
PORT_IS_OUTPUT = 0x2
EEXIST = 17  # jack_connect's answer when the connection is already there


class JackError(Exception):
    """libjack refused: no server, or no port."""


class _MidiEvent(ctypes.Structure):
    _fields_ = [("time", ctypes.c_uint32), ("size", ctypes.c_size_t),
                ("buffer", ctypes.POINTER(ctypes.c_ubyte))]


_Process = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_uint32, ctypes.c_void_p)
_Shutdown = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


def _load() -> ctypes.CDLL:
    """The libjack python-rtmidi uses (its wheel bundles one), else the system's.

    The same one as our MIDI outputs (RtMidi): in a JACK graph a client wakes the clients after
    it itself, and a client of the system's libjack (1.9.21 here) fed by one of python-rtmidi's
    (1.9.22) was seen never to wake, from some cycle on, for good."""
    try:
        import rtmidi._rtmidi as extension

        lib = ctypes.CDLL(extension.__file__)  # its handle finds libjack among its dependencies
        lib.jack_client_open  # noqa: B018 (raises AttributeError where RtMidi has no JACK)
    except (ImportError, OSError, AttributeError):
        try:
            lib = ctypes.CDLL(ctypes.util.find_library("jack") or "libjack.so.0")
        except OSError as error:
            raise JackError(f"no libjack here ({error})") from None
    pointer, text = ctypes.c_void_p, ctypes.c_char_p
    signatures: dict[str, tuple[object, list[object]]] = {
        "jack_client_open": (pointer, [text, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]),
        "jack_client_close": (ctypes.c_int, [pointer]),
        "jack_get_client_name": (text, [pointer]),
        "jack_activate": (ctypes.c_int, [pointer]),
        "jack_deactivate": (ctypes.c_int, [pointer]),
        "jack_port_register": (pointer, [pointer, text, text, ctypes.c_ulong, ctypes.c_ulong]),
        "jack_port_name": (text, [pointer]),
        "jack_port_get_buffer": (pointer, [pointer, ctypes.c_uint32]),
        "jack_midi_get_event_count": (ctypes.c_uint32, [pointer]),
        "jack_midi_event_get": (ctypes.c_int, [ctypes.POINTER(_MidiEvent), pointer, ctypes.c_uint32]),
        "jack_set_process_callback": (ctypes.c_int, [pointer, _Process, pointer]),
        "jack_on_shutdown": (None, [pointer, _Shutdown, pointer]),
        "jack_get_ports": (ctypes.POINTER(text), [pointer, text, text, ctypes.c_ulong]),
        "jack_free": (None, [pointer]),
        "jack_connect": (ctypes.c_int, [pointer, text, text]),
        "jack_last_frame_time": (ctypes.c_uint32, [pointer]),
        "jack_get_sample_rate": (ctypes.c_uint32, [pointer]),
    }
    for function, (result, arguments) in signatures.items():
        call = getattr(lib, function)
        call.restype, call.argtypes = result, arguments
    return lib


# What the process callback calls: quick, never blocking. Called through ctypes.PyDLL, they keep
# the GIL; through CDLL each call would give it up and have to take it back, which the reader's
# other thread can hold for up to a switch interval (5 ms), in JACK's realtime thread.
_CYCLE_CALLS = ("jack_port_get_buffer", "jack_midi_get_event_count", "jack_midi_event_get",
                "jack_last_frame_time")


def _holding_the_gil(lib: ctypes.CDLL) -> ctypes.PyDLL:
    """The same library, for the process callback's calls, made without giving up the GIL."""
    held = ctypes.PyDLL(lib._name, handle=lib._handle)
    for function in _CYCLE_CALLS:
        call, source = getattr(held, function), getattr(lib, function)
        call.restype, call.argtypes = source.restype, source.argtypes
    return held


Handler = Callable[[float, bytes], None]
"""Takes an event's time (time.monotonic() seconds) and its bytes; called in JACK's thread."""


class MidiInputClient:
    """A JACK client with one MIDI input port, handing each event to `handle` in the process
    callback, and `on_shutdown` called (from a libjack thread) when the server goes."""

    def __init__(self, name: str, port: str, handle: Handler, on_shutdown: Callable[[], None]) -> None:
        self._lib = lib = _load()
        status = ctypes.c_int(0)
        self._client = lib.jack_client_open(name.encode(), NO_START_SERVER, ctypes.byref(status))
        if not self._client:
            raise JackError(f"no JACK server took a client (status 0x{status.value:x})")
        self._port = lib.jack_port_register(self._client, port.encode(), MIDI_TYPE, PORT_IS_INPUT, 0)
        if not self._port:
            lib.jack_client_close(self._client)
            raise JackError(f"JACK refused the port '{port}'")
        self._handle = handle
        self._cycle_lib = _holding_the_gil(lib)
        self._event = _MidiEvent()
        self._clock = CycleClock(lib.jack_get_sample_rate(self._client))
        self.cycles = 0  # process cycles run: none for long means JACK no longer wakes us
        # Kept referenced: libjack holds only the C pointers.
        self._process_callback = _Process(self._process)
        self._shutdown_callback = _Shutdown(lambda _argument: on_shutdown())
        lib.jack_set_process_callback(self._client, self._process_callback, None)
        lib.jack_on_shutdown(self._client, self._shutdown_callback, None)
        if lib.jack_activate(self._client) != 0:
            lib.jack_client_close(self._client)
            raise JackError("JACK would not run the client")

    @property
    def port_name(self) -> str:
        return bytes(self._lib.jack_port_name(self._port)).decode()

    def midi_outputs(self) -> list[str]:
        names = self._lib.jack_get_ports(self._client, None, MIDI_TYPE, PORT_IS_OUTPUT)
        if not names:
            return []
        try:
            return list(_strings(names))
        finally:
            self._lib.jack_free(names)

    def connect_from(self, source: str) -> bool:
        """Connects output port `source` to our input; whether it is (it may have gone meanwhile)."""
        result = self._lib.jack_connect(self._client, source.encode(), self.port_name.encode())
        return result in (0, EEXIST)

    def close(self) -> None:
        self._lib.jack_deactivate(self._client)
        self._lib.jack_client_close(self._client)

    def _process(self, frames: int, _argument: object) -> int:
        woke = time.monotonic()
        self.cycles += 1
        lib, event = self._cycle_lib, self._event
        start = self._clock.cycle_start(lib.jack_last_frame_time(self._client), frames, woke)
        buffer = lib.jack_port_get_buffer(self._port, frames)
        for index in range(lib.jack_midi_get_event_count(buffer)):
            if lib.jack_midi_event_get(ctypes.byref(event), buffer, index) != 0:
                break
            self._handle(start + event.time / self._clock.rate, ctypes.string_at(event.buffer, event.size))
        return 0


def _strings(array: ctypes.Array[ctypes.c_char_p] | ctypes._Pointer[ctypes.c_char_p]) -> Iterator[str]:
    index = 0
    while (name := array[index]) is not None:
        yield name.decode()
        index += 1

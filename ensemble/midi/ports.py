"""MIDI backends and ports through mido, with errors a performer can act on."""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from collections.abc import Iterator
from typing import Any

import mido

from ensemble.errors import UserError
from ensemble.midi import libjack_quiet

BACKENDS = {
    "jack": "mido.backends.rtmidi/UNIX_JACK",
    "alsa": "mido.backends.rtmidi/LINUX_ALSA",
}
VIRTUAL_PORT = "ensemble"  # the port we offer when no port is named


def backend(name: str | None) -> Any:
    """mido's backend: `jack` or `alsa` (rtmidi), or mido's own choice (MIDO_BACKEND) for None."""
    if name is not None and name not in BACKENDS:
        raise UserError(f"unknown MIDI backend '{name}' (choose from {', '.join(BACKENDS)})")
    midi = mido.backend if name is None else mido.Backend(BACKENDS[name])
    if is_jack(midi):
        libjack_quiet.silence()
    return midi


def is_jack(midi: Any) -> bool:
    """Whether `midi` is rtmidi's JACK API, whose clients live and die with a JACK server."""
    return getattr(midi, "name", None) == "mido.backends.rtmidi" and getattr(midi, "api", None) == "UNIX_JACK"


def abandon(client: Any) -> None:
    """Let go of a MIDI client (a mido port, an rtmidi object) whose JACK server has gone, for good.

    It is never closed. libjack frees a dead server's clients itself the next time the process
    opens a client, so closing one afterwards (as mido does when a port is collected, and
    Python when it exits) touches freed memory: a crash. Closing it before is no better: RtMidi
    waits a second, GIL held, for the dead server to empty its buffer. So it is kept alive (an
    extra reference that nothing takes back): some 16 KB (RtMidi's ring) a client, once a restart.
    """
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(client))


def _no_midi(error: Exception) -> UserError:
    detail = str(error).splitlines()[0] if str(error) else type(error).__name__
    return UserError(f"midi: no MIDI system here ({detail}); with JACK running, try --midi-backend jack")


@contextlib.contextmanager
def _quiet_c_stderr(midi: Any) -> Iterator[None]:
    """libasound prints its own complaints straight to file descriptor 2; ours say it better.

    libjack is silenced another way (libjack_quiet): with JACK, file descriptor 2 is left alone,
    so that what other threads write meanwhile (the performer's lines) is not lost with them.
    """
    if is_jack(midi) and libjack_quiet.silenced():
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    sys.stderr.flush()
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def output_names(midi: Any) -> list[str]:
    try:
        with _quiet_c_stderr(midi):
            return list(midi.get_output_names())
    except (OSError, ImportError) as error:  # rtmidi.SystemError is an OSError
        raise _no_midi(error) from None


class PortDirectory:
    """Lists output ports, over and over, without stalling the sender.

    mido opens and closes a fresh MIDI client for every listing (~70 ms with JACK, part of it
    holding the GIL: the MIDI sender was seen held up for a second). With rtmidi, one client
    kept open answers in microseconds.
    """

    def __init__(self, midi: Any) -> None:
        self.midi = midi
        self._probe: Any = None
        if getattr(midi, "name", None) == "mido.backends.rtmidi":
            import rtmidi

            api = getattr(rtmidi, f"API_{midi.api}", None) if midi.api else None
            api = rtmidi.API_UNSPECIFIED if api is None else api
            try:
                with _quiet_c_stderr(midi):
                    self._probe = rtmidi.MidiOut(rtapi=api, name="ensemble-ports")
            except (OSError, rtmidi.RtMidiError) as error:
                raise _no_midi(error) from None

    def names(self) -> list[str]:
        if self._probe is None:
            return output_names(self.midi)
        try:
            return list(self._probe.get_ports())
        except OSError as error:
            raise _no_midi(error) from None

    def close(self) -> None:
        if self._probe is not None:
            self._probe.delete()
            self._probe = None

    def abandon(self) -> None:
        """Its JACK server has gone: let go of the probe without closing it (see `abandon`)."""
        if self._probe is not None:
            abandon(self._probe)
            self._probe = None


def resolve(wanted: str, names: list[str]) -> str:
    """A port by its exact name or by a part of exactly one name."""
    if wanted in names:
        return wanted
    matches = [name for name in names if wanted.lower() in name.lower()]
    if len(matches) == 1:
        return matches[0]
    listing = ", ".join(names) if names else "none"
    if matches:
        raise UserError(f"midi: '{wanted}' matches several ports: {', '.join(matches)}")
    raise UserError(f"midi: no output port '{wanted}' (ports: {listing})")


def open_port(midi: Any, name: str | None) -> Any:
    """Open a named port, or offer a virtual port of our own that synths can connect to."""
    try:
        with _quiet_c_stderr(midi):
            if name is None:
                return midi.open_output(VIRTUAL_PORT, virtual=True, client_name=VIRTUAL_PORT)
            return midi.open_output(name)
    except (OSError, ImportError) as error:
        raise _no_midi(error) from None

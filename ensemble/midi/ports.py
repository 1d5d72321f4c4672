"""MIDI backends and ports through mido, with errors a performer can act on."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

import mido

from ensemble.errors import UserError

BACKENDS = {
    "jack": "mido.backends.rtmidi/UNIX_JACK",
    "alsa": "mido.backends.rtmidi/LINUX_ALSA",
}
VIRTUAL_PORT = "ensemble"  # the port we offer when no port is named


def backend(name: str | None) -> Any:
    """mido's backend: `jack` or `alsa` (rtmidi), or mido's own choice (MIDO_BACKEND) for None."""
    if name is None:
        return mido.backend
    if name not in BACKENDS:
        raise UserError(f"unknown MIDI backend '{name}' (choose from {', '.join(BACKENDS)})")
    return mido.Backend(BACKENDS[name])


def _no_midi(error: Exception) -> UserError:
    detail = str(error).splitlines()[0] if str(error) else type(error).__name__
    return UserError(f"midi: no MIDI system here ({detail}); with JACK running, try --midi-backend jack")


@contextlib.contextmanager
def _quiet_c_stderr() -> Iterator[None]:
    """libasound prints its own complaints straight to file descriptor 2; ours say it better."""
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
        with _quiet_c_stderr():
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
                with _quiet_c_stderr():
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
        with _quiet_c_stderr():
            if name is None:
                return midi.open_output(VIRTUAL_PORT, virtual=True, client_name=VIRTUAL_PORT)
            return midi.open_output(name)
    except (OSError, ImportError) as error:
        raise _no_midi(error) from None

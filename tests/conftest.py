import os
from collections.abc import Iterator

import pytest
from support import services

from ensemble.errors import UserError


@pytest.fixture(scope="session")
def glicol() -> None:
    """The real Glicol engine (fetched through npm on first use). Required in CI."""
    from ensemble.glicol.engine import shared_module

    try:
        shared_module()
    except UserError as error:
        if os.environ.get("CI"):
            pytest.fail(f"the Glicol engine is required in CI: {error}")
        pytest.skip(f"Glicol engine unavailable ({error})")

@pytest.fixture(scope="session")
def jack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[services.Jack]:
    """A running jackd (dummy driver, 44.1 kHz, 256 frames) under its own server name."""
    services.require_servers()
    with services.Jack(directory=tmp_path_factory.mktemp("jack")) as server:
        yield server


@pytest.fixture
def scsynth(jack: services.Jack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[services.Scsynth]:
    """A fresh scsynth on a free UDP port of 127.0.0.1, answering /status; killed afterwards."""
    with services.Scsynth(jack, directory=tmp_path_factory.mktemp("scsynth")) as server:
        yield server


@pytest.fixture
def realtime_jack(tmp_path_factory: pytest.TempPathFactory,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[services.Jack]:
    """A realtime jackd at 48 kHz / 64 frames of this test's own, for what judges timing (a jackd
    without realtime was seen to delay MIDI by tens of milliseconds under load); this process's
    rtmidi clients find it through the environment."""
    services.require_servers()
    folder = tmp_path_factory.mktemp("jack")
    with services.Jack(rate=48000, period=64, realtime=True, directory=folder) as server:
        for key in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER"):
            monkeypatch.setenv(key, server.env[key])
        yield server


@pytest.fixture(scope="module")
def steady_jack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[services.Jack]:
    """A realtime jackd at 48 kHz / 256 frames for a module whose tests start several of our
    processes at once: at 64 frames, five clients on these two cores miss hundreds of cycles in
    a few seconds (JACK logs each) and MIDI is lost with them; at 256 a handful. A message
    arrives on the cycle after it is sent, so times through it are good to one period (5.3 ms)."""
    services.require_servers()
    folder = tmp_path_factory.mktemp("jack")
    with services.Jack(rate=48000, period=256, realtime=True, directory=folder) as server, \
            pytest.MonkeyPatch.context() as patch:
        for key in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER"):
            patch.setenv(key, server.env[key])
        yield server

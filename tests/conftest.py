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

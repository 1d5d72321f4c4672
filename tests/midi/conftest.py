"""A JACK server of a test's own, for tests that stop and start it (the session's is shared)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from support import services


@pytest.fixture
def jack_to_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[services.Jack]:
    """A jackd (dummy driver) that the test may stop and start again under the same name; the
    test's own rtmidi clients find it through the environment."""
    services.require_servers()
    (tmp_path / "jack").mkdir()
    with services.Jack(directory=tmp_path / "jack") as server:
        for key in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER"):
            monkeypatch.setenv(key, server.env[key])
        yield server


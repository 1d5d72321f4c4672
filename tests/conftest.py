import os

import pytest

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

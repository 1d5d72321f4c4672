"""What some tests need beyond the package (Python packages, servers, network namespaces):
required in CI (a missing one fails the run), skipped elsewhere with what to do."""

import importlib
import os
from types import ModuleType
from typing import NoReturn

import pytest


def required_module(name: str, how_to_install: str) -> ModuleType:
    if os.environ.get("CI"):
        return importlib.import_module(name)  # CI installs the test extra: missing is a failure
    return pytest.importorskip(name, reason=f"not installed: {how_to_install}")


def unavailable(reason: str) -> NoReturn:
    """A real component a test needs is missing: a failure in CI, a skip elsewhere, saying why."""
    if os.environ.get("CI"):
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)

"""Python packages some tests need: required in CI (a missing one fails the run), skipped elsewhere."""

import importlib
import os
from types import ModuleType

import pytest


def required_module(name: str, how_to_install: str) -> ModuleType:
    if os.environ.get("CI"):
        return importlib.import_module(name)  # CI installs the test extra: missing is a failure
    return pytest.importorskip(name, reason=f"not installed: {how_to_install}")

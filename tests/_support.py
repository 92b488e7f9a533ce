"""Helpers shared by the test packages."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing(reason: str) -> NoReturn:
    """Skip a test whose component is missing, but fail it under ``CI=true``.

    CI installs everything the project needs, so a missing part there is a failure,
    never a skipped test counted as a pass.
    """
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"required for this test under CI: {reason}")
    pytest.skip(reason)


def require(condition: object, reason: str) -> None:
    """:func:`missing` unless ``condition`` holds."""
    if not condition:
        missing(reason)

"""Finding the stack's binaries for tests: a failure under CI, a skip elsewhere."""

from __future__ import annotations

import os

import pytest

from opentelemetry.instrumentation.wecom.stack.build import Binaries, find_binaries

PROVISION = "wecom-otel stack build"


def require_binaries() -> Binaries:
    """The built binaries; under ``CI=true`` a missing one fails the test instead of skipping."""
    binaries, missing = find_binaries()
    if binaries is not None:
        return binaries
    message = f"stack binaries missing ({', '.join(missing)}); provision them with `{PROVISION}`"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)

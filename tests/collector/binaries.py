"""Finding the stack's binaries for tests: a failure under CI, a skip elsewhere."""

from __future__ import annotations

from opentelemetry.instrumentation.wecom.stack.build import Binaries, find_binaries
from tests._support import missing

PROVISION = "wecom-otel stack build"


def require_binaries() -> Binaries:
    """The built binaries; under ``CI=true`` a missing one fails the test instead of skipping."""
    binaries, absent = find_binaries()
    if binaries is None:
        missing(f"stack binaries missing ({', '.join(absent)}); provision them with `{PROVISION}`")
    return binaries

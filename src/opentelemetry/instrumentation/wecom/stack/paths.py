"""Where the bundle's files, the binary cache and the stack's state live."""

from __future__ import annotations

import os
from pathlib import Path

# Set by `wecom-otel stack` users and CI to move the cache (binaries, build trees).
CACHE_ENV = "WECOM_OTEL_CACHE"
# Set to move the running stack's state (pid files, logs, rendered configs, queue storage).
STATE_ENV = "WECOM_OTEL_STATE_DIR"

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


class BundleNotFoundError(RuntimeError):
    """Neither the installed package nor a source checkout has the collector/ bundle."""


def bundle_dir() -> Path:
    """The ``collector/`` bundle: packaged into the wheel, or the source checkout's.

    The wheel force-includes ``collector/`` as ``opentelemetry/instrumentation/wecom/_bundle``;
    an editable install or a plain checkout falls back to ``<repo>/collector``.
    """
    candidates = (
        _PACKAGE_DIR / "_bundle",
        # src/opentelemetry/instrumentation/wecom -> repository root
        _PACKAGE_DIR.parents[3] / "collector",
    )
    for candidate in candidates:
        if (candidate / "otelcol-config.yaml").is_file():
            return candidate
    searched = ", ".join(str(c) for c in candidates)
    raise BundleNotFoundError(f"collector bundle not found (looked in {searched})")


def cache_dir() -> Path:
    """Binary cache, ``$WECOM_OTEL_CACHE`` or ``~/.cache/wecom-otel``."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "wecom-otel"


def state_dir() -> Path:
    """The running stack's state, ``$WECOM_OTEL_STATE_DIR`` or ``~/.local/state/wecom-otel``."""
    configured = os.environ.get(STATE_ENV)
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "wecom-otel"

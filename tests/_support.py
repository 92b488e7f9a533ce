"""Helpers shared by the test packages."""

from __future__ import annotations

import atexit
import importlib.util
import os
import socket
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Callable, NoReturn, TypeVar

import pytest

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]


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


def poll(
    fetch: Callable[[], T], done: Callable[[T], bool], timeout: float, interval: float = 0.5
) -> T:
    """Call ``fetch`` until ``done`` accepts its result or ``timeout`` s pass; the last result.

    The caller asserts on what it gets back, so a condition that never came true fails there.
    """
    deadline = time.monotonic() + timeout
    value = fetch()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(interval)
        value = fetch()
    return value


_HELD: list[socket.socket] = []
atexit.register(lambda: [sock.close() for sock in _HELD])


def closed_port() -> int:
    """A loopback port where nothing listens, for the rest of the session.

    The port stays bound by this process and never listens: a connection to it is refused,
    and no other server (another test, another engineer's stack) can take it meanwhile, as
    it could a port merely found free and let go.
    """
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    _HELD.append(sock)
    return int(sock.getsockname()[1])


def script(name: str) -> ModuleType:
    """``scripts/<name>.py`` imported as a module (scripts/ is no package), once per session."""
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module

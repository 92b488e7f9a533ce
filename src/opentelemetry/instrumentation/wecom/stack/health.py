"""Waiting for a process's HTTP health endpoint."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from typing import Callable


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """True when ``url`` answers 2xx (loopback URLs only; no proxy is consulted)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            status: int = response.status
            return 200 <= status < 300
    except (urllib.error.URLError, OSError):
        return False


def wait_until(
    check: Callable[[], bool],
    timeout: float,
    interval: float = 0.25,
    alive: Callable[[], bool] = lambda: True,
) -> bool:
    """Poll ``check`` until it is true, ``alive`` turns false, or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        if not alive():
            return False
        time.sleep(interval)
    return check()

"""Turning a request path into the bounded ``wecom.api`` value.

WeCom paths carry no identifiers (every id is a query or body parameter), so
the path after ``/cgi-bin/`` is a safe, low-cardinality name. Junk paths are
not: a scanner or a bug can produce thousands. Paths from the official catalog
are always accepted; other well-formed paths are accepted until ``max_apis``
distinct ones have been seen, and everything after that becomes ``_OTHER``.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from importlib import resources
from typing import Final

from opentelemetry.instrumentation.wecom._attributes import OTHER_API

_CGI_BIN: Final = "/cgi-bin/"
_WELL_FORMED: Final = re.compile(r"[A-Za-z0-9_\-]+(?:/[A-Za-z0-9_\-]+){0,5}")
_MAX_LENGTH: Final = 80


@lru_cache(maxsize=1)
def known_apis() -> frozenset[str]:
    """The WeCom API catalog shipped as package data (paths without ``/cgi-bin/``)."""
    text = (
        resources.files("opentelemetry.instrumentation.wecom")
        .joinpath("_data/api_paths.txt")
        .read_text(encoding="utf-8")
    )
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


class ApiNamer:
    """Maps request paths to ``wecom.api`` values under a cardinality cap. Thread-safe."""

    def __init__(self, max_unknown: int, known: frozenset[str] | None = None) -> None:
        self._known = known_apis() if known is None else known
        self._max_unknown = max_unknown
        self._unknown_seen: set[str] = set()
        self._lock = threading.Lock()

    def name(self, path: str) -> str:
        """The API name of ``path``, e.g. ``/cgi-bin/message/send`` -> ``message/send``."""
        start = path.find(_CGI_BIN)
        if start < 0:
            return OTHER_API
        api = path[start + len(_CGI_BIN) :].rstrip("/")
        if api in self._known or api in self._unknown_seen:
            return api
        if len(api) > _MAX_LENGTH or not _WELL_FORMED.fullmatch(api):
            return OTHER_API
        with self._lock:
            if api in self._unknown_seen:
                return api
            if len(self._unknown_seen) < self._max_unknown:
                self._unknown_seen.add(api)
                return api
        return OTHER_API

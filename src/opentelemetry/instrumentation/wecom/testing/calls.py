"""The log of calls the mock received, with every credential masked."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from opentelemetry.instrumentation.wecom._redaction import REDACTED, SECRET_PARAMS, scrub

mask_text = scrub
"""Mask credentials inside free text such as a request line."""


def mask_query(query: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``query`` with credential values replaced by ``REDACTED``."""
    return {k: (REDACTED if k.lower() in SECRET_PARAMS else v) for k, v in query.items()}


@dataclass(frozen=True)
class CallRecord:
    """One request as the mock saw it.

    ``api`` is the path under ``/cgi-bin/`` (``None`` for unknown paths); ``status`` is None when
    no HTTP answer was sent (connection reset, hang); ``fault`` names the injected fault, if any.
    """

    timestamp: float
    method: str
    path: str
    api: str | None
    query: dict[str, str]
    status: int | None
    errcode: int | None
    fault: str | None = None
    duration_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class CallLog:
    """A bounded, thread-safe list of :class:`CallRecord`."""

    def __init__(self, maxlen: int = 10_000) -> None:
        self._records: deque[CallRecord] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def append(self, record: CallRecord) -> None:
        with self._lock:
            self._records.append(record)

    def list(self, api: str | None = None) -> list[CallRecord]:
        with self._lock:
            records = list(self._records)
        return records if api is None else [r for r in records if r.api == api]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

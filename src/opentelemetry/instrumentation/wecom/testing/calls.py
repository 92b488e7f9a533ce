"""The log of calls the mock received, with every credential masked.

The mock stands on its own (it imports nothing of the instrumentation), so it
masks with its own code: one matcher, :func:`is_credential`, serves the query of
a call record and the free text of a log line. Its list of WeCom credential
names covers every name the instrumentation redacts (a test checks it).
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Final

REDACTED: Final = "REDACTED"
"""What a masked credential reads as, in the call log and the mock's own log lines."""

CREDENTIAL_PARAMS: Final = frozenset(
    {
        "access_token",
        "auth_code",
        "code",
        "corpsecret",
        "echostr",
        "js_code",
        "jsapi_ticket",
        "key",
        "permanent_code",
        "pre_auth_code",
        "provider_access_token",
        "provider_secret",
        "secret",
        "session_key",
        "suite_access_token",
        "suite_secret",
        "suite_ticket",
        "ticket",
        "token",
        "user_ticket",
    }
)
"""Query parameters and body fields of the WeCom API that carry a credential or one-time code."""

# `name=value` in a request line, `"name": "value"` in JSON, `name: value` in a log line.
_IN_TEXT: Final = re.compile(
    r"""(?<![A-Za-z0-9_])([A-Za-z_]+)(["']?\s*[=:]\s*["']?)([^&\s"',;#)}\]]+)"""
)


def is_credential(name: str) -> bool:
    """Whether the parameter ``name`` carries a credential."""
    return name.lower() in CREDENTIAL_PARAMS


def mask_query(query: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``query`` with credential values replaced by ``REDACTED``."""
    return {k: (REDACTED if is_credential(k) else v) for k, v in query.items()}


def mask_text(text: str) -> str:
    """``text`` (a request line, a log message) with credential values replaced by ``REDACTED``."""
    return _IN_TEXT.sub(_mask_match, text)


def _mask_match(match: re.Match[str]) -> str:
    name, separator, _ = match.groups()
    return f"{name}{separator}{REDACTED}" if is_credential(name) else match.group(0)


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

"""Configuration of the instrumentation: keyword arguments first, then environment variables.

Every option is documented in docs/configuration.md. A malformed environment
variable must not stop the host application, so it is reported with a warning
and the default is used; a malformed keyword argument is a programming error in
the caller and raises a clear ``ValueError`` / ``TypeError``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from math import inf
from typing import Any, Final

_logger = logging.getLogger(__name__)

DEFAULT_HOSTS: Final = ("qyapi.weixin.qq.com",)
DEFAULT_MAX_APIS: Final = 100
DEFAULT_RETRY_WINDOW_S: Final = 60.0
DEFAULT_MAX_TRACKED_MEMBERS: Final = 10_000

ENV_HOSTS: Final = "OTEL_PYTHON_WECOM_HOSTS"
ENV_KEEP_HTTP_SPANS: Final = "OTEL_PYTHON_WECOM_KEEP_HTTP_SPANS"
ENV_REDACT_PARAMS: Final = "OTEL_PYTHON_WECOM_REDACT_PARAMS"
ENV_MAX_APIS: Final = "OTEL_PYTHON_WECOM_MAX_APIS"
ENV_CALL_LOG: Final = "OTEL_PYTHON_WECOM_CALL_LOG"
ENV_RETRY_WINDOW: Final = "OTEL_PYTHON_WECOM_RETRY_WINDOW"
ENV_MAX_TRACKED_MEMBERS: Final = "OTEL_PYTHON_WECOM_MAX_TRACKED_MEMBERS"

_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off", ""})


@dataclass(frozen=True)
class Settings:
    """Resolved options, shared read-only by every call."""

    hosts: frozenset[str] = frozenset(DEFAULT_HOSTS)
    keep_http_spans: bool = False
    extra_redact_params: frozenset[str] = frozenset()
    max_apis: int = DEFAULT_MAX_APIS
    call_log: bool = False
    retry_window: float = DEFAULT_RETRY_WINDOW_S
    max_tracked_members: int = DEFAULT_MAX_TRACKED_MEMBERS

    def is_wecom_host(self, host: str, port: int) -> bool:
        """Whether ``host`` (lower case) on ``port`` is one of the configured WeCom hosts."""
        hosts = self.hosts
        return host in hosts or f"{host}:{port}" in hosts


def resolve_settings(
    options: Mapping[str, Any], environ: Mapping[str, str] = os.environ
) -> Settings:
    """Build :class:`Settings` from ``instrument()`` keyword arguments and the environment."""
    return Settings(
        hosts=_hosts(options.get("hosts"), environ),
        keep_http_spans=_flag(options.get("keep_http_spans"), ENV_KEEP_HTTP_SPANS, environ),
        extra_redact_params=frozenset(
            _names(options.get("redact_params"), ENV_REDACT_PARAMS, environ, lower=False)
        ),
        max_apis=_count(
            "max_apis", options.get("max_apis"), ENV_MAX_APIS, DEFAULT_MAX_APIS, environ
        ),
        call_log=_flag(options.get("call_log"), ENV_CALL_LOG, environ),
        retry_window=_seconds(
            "retry_window",
            options.get("retry_window"),
            ENV_RETRY_WINDOW,
            DEFAULT_RETRY_WINDOW_S,
            environ,
        ),
        max_tracked_members=_count(
            "max_tracked_members",
            options.get("max_tracked_members"),
            ENV_MAX_TRACKED_MEMBERS,
            DEFAULT_MAX_TRACKED_MEMBERS,
            environ,
        ),
    )


def _hosts(value: object, environ: Mapping[str, str]) -> frozenset[str]:
    hosts = _names(value, ENV_HOSTS, environ, lower=True)
    return frozenset(hosts) if hosts else frozenset(DEFAULT_HOSTS)


def _names(value: object, env_name: str, environ: Mapping[str, str], *, lower: bool) -> list[str]:
    if value is None:
        raw: Iterable[object] = environ.get(env_name, "").split(",")
    elif isinstance(value, str):
        raw = value.split(",")
    elif isinstance(value, Iterable):
        raw = value
    else:
        raise TypeError(f"expected a list of strings or a comma-separated string, got {value!r}")
    names = []
    for item in raw:
        if not isinstance(item, str):
            raise TypeError(f"expected a string, got {item!r}")
        name = item.strip()
        if name:
            names.append(name.lower() if lower else name)
    return names


def _flag(value: object, env_name: str, environ: Mapping[str, str]) -> bool:
    if value is not None:
        if not isinstance(value, bool):
            raise TypeError(f"expected True or False, got {value!r}")
        return value
    raw = environ.get(env_name, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw not in _FALSE:
        _logger.warning("%s=%r is not a boolean (use true or false); using false", env_name, raw)
    return False


def _count(
    name: str, value: object, env_name: str, default: int, environ: Mapping[str, str]
) -> int:
    if value is not None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        return value
    raw = environ.get(env_name, "").strip()
    if not raw:
        return default
    try:
        parsed = int(raw)
    except ValueError:
        parsed = -1
    if parsed < 0:
        _logger.warning("%s=%r is not a non-negative integer; using %d", env_name, raw, default)
        return default
    return parsed


def _seconds(
    name: str, value: object, env_name: str, default: float, environ: Mapping[str, str]
) -> float:
    if value is not None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < inf:
            raise ValueError(f"{name} must be a non-negative number of seconds, got {value!r}")
        return float(value)
    raw = environ.get(env_name, "").strip()
    if not raw:
        return default
    try:
        parsed = float(raw)
    except ValueError:
        parsed = -1.0
    if not 0 <= parsed < inf:
        _logger.warning(
            "%s=%r is not a non-negative number of seconds; using %g", env_name, raw, default
        )
        return default
    return parsed

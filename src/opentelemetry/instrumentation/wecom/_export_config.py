"""Where ``enable()`` sends traces and metrics: arguments first, then standard ``OTEL_*`` variables.

Pure parsing, no SDK import, so a malformed value is reported (a ``ValueError``
naming the argument or variable) before anything is built.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal, Optional
from urllib.parse import urlsplit

from opentelemetry.instrumentation.wecom._url import default_port

Signal = Literal["traces", "metrics"]

HTTP_PROTOBUF: Final = "http/protobuf"
GRPC: Final = "grpc"
# The specification's default; it needs no grpcio and passes HTTP proxies.
DEFAULT_PROTOCOL: Final = HTTP_PROTOBUF
DEFAULT_ENDPOINTS: Final = {HTTP_PROTOBUF: "http://localhost:4318", GRPC: "http://localhost:4317"}

OTLP: Final = "otlp"
CONSOLE: Final = "console"
NONE: Final = "none"
_EXPORTERS: Final = (OTLP, CONSOLE, NONE)


@dataclass(frozen=True)
class OtlpTarget:
    """An OTLP destination: ``endpoint`` as configured (by ``source``), ``url`` as exported to."""

    protocol: str
    endpoint: str
    url: str
    source: str
    host: str
    port: int


@dataclass(frozen=True)
class SignalConfig:
    """The exporters of one signal (empty for ``none``) and its OTLP target if ``otlp`` is one."""

    signal: Signal
    exporters: tuple[str, ...]
    otlp: Optional[OtlpTarget]


def resolve_signal(
    signal: Signal,
    *,
    exporters: Optional[str] = None,
    endpoint: Optional[str] = None,
    protocol: Optional[str] = None,
    environ: Mapping[str, str] = os.environ,
) -> SignalConfig:
    """Resolve one signal's configuration; raise ``ValueError`` naming the malformed setting."""
    names = _exporters(signal, exporters, environ)
    target = _otlp_target(signal, endpoint, protocol, environ) if OTLP in names else None
    return SignalConfig(signal, names, target)


def _pick(
    argument: Optional[str],
    argument_name: str,
    variables: tuple[str, ...],
    environ: Mapping[str, str],
) -> tuple[Optional[str], str]:
    """The first value set, with the name to blame if it is malformed."""
    if argument is not None:
        return argument, f"{argument_name}="
    for variable in variables:
        value = environ.get(variable, "").strip()
        if value:
            return value, f"{variable}="
    return None, ""


def _exporters(
    signal: Signal, argument: Optional[str], environ: Mapping[str, str]
) -> tuple[str, ...]:
    variable = f"OTEL_{signal.upper()}_EXPORTER"
    raw, source = _pick(argument, f"{signal}_exporter", (variable,), environ)
    if raw is None:
        return (OTLP,)
    names = [name.strip().lower() for name in raw.split(",") if name.strip()]
    for name in names:
        if name not in _EXPORTERS:
            raise ValueError(
                f"{source}{raw!r}: unsupported exporter {name!r}; enable() supports "
                f"{', '.join(_EXPORTERS)} (configure the SDK yourself for others)"
            )
    return tuple(dict.fromkeys(name for name in names if name != NONE))


def _otlp_target(
    signal: Signal, endpoint: Optional[str], protocol: Optional[str], environ: Mapping[str, str]
) -> OtlpTarget:
    upper = signal.upper()
    raw_protocol, protocol_source = _pick(
        protocol,
        "protocol",
        (f"OTEL_EXPORTER_OTLP_{upper}_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"),
        environ,
    )
    chosen = (raw_protocol or DEFAULT_PROTOCOL).strip().lower()
    if chosen not in (HTTP_PROTOBUF, GRPC):
        raise ValueError(
            f"{protocol_source}{raw_protocol!r} is not a supported OTLP protocol: "
            f"use {HTTP_PROTOBUF!r} or {GRPC!r}"
        )

    signal_variable = f"OTEL_EXPORTER_OTLP_{upper}_ENDPOINT"
    if endpoint is not None:
        url, source, is_base = endpoint, "endpoint", True
    elif environ.get(signal_variable, "").strip():
        url, source, is_base = environ[signal_variable].strip(), signal_variable, False
    elif environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip():
        url, source, is_base = (
            environ["OTEL_EXPORTER_OTLP_ENDPOINT"].strip(),
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            True,
        )
    else:
        url, source, is_base = DEFAULT_ENDPOINTS[chosen], "the default", True
    host, port = _host_port(url, source)
    # The specification: a base endpoint gets the signal's path, a per-signal one is used as is.
    export_url = f"{url.rstrip('/')}/v1/{signal}" if chosen == HTTP_PROTOBUF and is_base else url
    return OtlpTarget(chosen, url, export_url, source, host, port)


def _host_port(url: str, source: str) -> tuple[str, int]:
    problem = (
        f"{source}={url!r} is not a valid OTLP endpoint: expected a URL like http://collector:4318"
    )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError(problem) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(problem)
    return parts.hostname, port if port is not None else default_port(parts.scheme)

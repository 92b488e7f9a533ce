"""Instrumented libraries: either httpx or requests is enough."""

from __future__ import annotations

_instruments: tuple[str, ...] = ()
_instruments_any = ("httpx >= 0.23", "requests ~= 2.0")

_supports_metrics = True
_semconv_status = "development"

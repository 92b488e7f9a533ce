"""Instrumented libraries: any one of httpx, requests and aiohttp is enough."""

from __future__ import annotations

_instruments: tuple[str, ...] = ()
_instruments_any = ("httpx >= 0.23", "requests ~= 2.0", "aiohttp >= 3.9, < 4")

_supports_metrics = True
_semconv_status = "development"

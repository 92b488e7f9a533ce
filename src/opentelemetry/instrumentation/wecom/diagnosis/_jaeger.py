"""A small client of Jaeger's query API: fetch one trace, find traces by span attribute.

Traces are fetched from ``GET /api/v3/traces/{id}`` (OTLP JSON, any storage backend). Finding
traces by attribute uses ``GET /api/traces?service=&tags=`` because the api_v3 HTTP gateway of
Jaeger up to v2.18 ignores ``query.attributes``; a Jaeger without that endpoint (v2.21 and
later) is searched through ``GET /api/v3/traces`` with ``query.attributes``, and the answer is
filtered here as well so an older gateway that ignores the filter cannot mislead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, Optional

from opentelemetry.instrumentation.wecom.diagnosis._endpoints import JAEGER_URL_ENV
from opentelemetry.instrumentation.wecom.diagnosis._evidence import matches, tag_text
from opentelemetry.instrumentation.wecom.diagnosis._http import Answer, Endpoint
from opentelemetry.instrumentation.wecom.diagnosis._model import TraceView
from opentelemetry.instrumentation.wecom.diagnosis._otlp import (
    OtlpFormatError,
    normalize_trace_id,
    traces_from_otlp_json,
)

__all__ = ["JaegerClient"]

HINT = (
    "Start the local stack with `wecom-otel stack up`, or point --jaeger "
    f"(or ${JAEGER_URL_ENV}) at Jaeger's query port (16686)"
)
# Trace fetches in flight at once while finding traces.
_FETCHERS = 4


class JaegerClient:
    """Jaeger's query API at ``base_url`` (the UI port, ``http://127.0.0.1:16686``).

    Every method raises :class:`BackendUnavailable` (one line naming the URL) when Jaeger cannot
    be reached within ``timeout`` seconds per request or answers something that is not Jaeger's.
    """

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self._endpoint = Endpoint.parse("Jaeger", base_url, HINT)
        self.timeout = timeout

    @property
    def url(self) -> str:
        """The base URL, without credentials (safe to print)."""
        return self._endpoint.url

    def trace(self, trace_id: str) -> Optional[TraceView]:
        """The trace with this id, or None when Jaeger does not have it.

        ValueError when ``trace_id`` is not a trace id (1 to 32 hex digits).
        """
        wanted = normalize_trace_id(trace_id)
        answer = self._get(f"/api/v3/traces/{wanted}", None)
        if answer.status == 404 and _jaeger_error(answer.payload) is not None:
            return None
        self._require_ok(answer, f"/api/v3/traces/{wanted}")
        for trace in self._traces(answer, f"/api/v3/traces/{wanted}"):
            if trace.trace_id == wanted:
                return trace
        return None

    def find_traces(
        self,
        service: str,
        start: datetime,
        end: datetime,
        tags: Optional[Mapping[str, str]] = None,
        limit: int = 10,
    ) -> list[TraceView]:
        """Up to ``limit`` traces of ``service`` that started in ``[start, end]``, newest first,
        with a span whose attributes equal ``tags`` (compared as strings, like Jaeger does)."""
        wanted = {key: tag_text(value) for key, value in (tags or {}).items()}
        if limit < 1:
            return []
        trace_ids = self._search_v1(service, start, end, wanted, limit)
        if trace_ids is None:  # no /api/traces in this Jaeger
            return self._search_v3(service, start, end, wanted, limit)
        with ThreadPoolExecutor(min(_FETCHERS, len(trace_ids) or 1)) as pool:
            fetched = list(pool.map(self.trace, trace_ids))
        return [trace for trace in fetched if trace is not None]

    def _search_v1(
        self, service: str, start: datetime, end: datetime, tags: Mapping[str, str], limit: int
    ) -> Optional[list[str]]:
        """Trace ids from ``/api/traces`` (newest first), or None when the endpoint is gone."""
        params = {
            "service": service,
            "start": str(_micros(start)),
            "end": str(_micros(end)),
            "limit": str(limit),
        }
        if tags:
            params["tags"] = json.dumps(dict(tags), separators=(",", ":"))
        answer = self._get("/api/traces", params)
        if answer.status == 404 and not isinstance(answer.payload, Mapping):
            return None
        data = answer.payload.get("data") if isinstance(answer.payload, Mapping) else None
        if answer.status != 200 or not isinstance(data, (list, type(None))):
            raise self._endpoint.unavailable(
                f"/api/traces answered HTTP {answer.status}: {_v1_error(answer.payload)}"
            )
        newest: list[tuple[int, str]] = []
        for trace in data or []:
            if not isinstance(trace, Mapping) or not isinstance(trace.get("traceID"), str):
                raise self._endpoint.unavailable("/api/traces answered traces without a traceID")
            spans = trace.get("spans") or []
            started = min((_v1_start(span) for span in spans), default=0)
            newest.append((started, trace["traceID"]))
        newest.sort(reverse=True)
        ids: list[str] = []
        for _, trace_id in newest:
            try:
                normalized = normalize_trace_id(trace_id)
            except ValueError:
                raise self._endpoint.unavailable(
                    f"/api/traces answered a malformed trace id {trace_id[:40]!r}"
                ) from None
            if normalized not in ids:
                ids.append(normalized)
        return ids[:limit]

    def _search_v3(
        self, service: str, start: datetime, end: datetime, tags: Mapping[str, str], limit: int
    ) -> list[TraceView]:
        params = {
            "query.service_name": service,
            "query.start_time_min": _rfc3339(start),
            "query.start_time_max": _rfc3339(end),
            "query.num_traces": str(max(limit, 100) if tags else limit),
        }
        if tags:
            params["query.attributes"] = json.dumps(dict(tags), separators=(",", ":"))
        answer = self._get("/api/v3/traces", params)
        if answer.status == 404 and _jaeger_error(answer.payload) is not None:
            return []  # api_v3 answers "No traces found" with a 404
        self._require_ok(answer, "/api/v3/traces")
        matching = [
            trace
            for trace in self._traces(answer, "/api/v3/traces")
            if any(matches(span, tags) for span in trace.spans)
        ]
        matching.sort(key=lambda trace: trace.start_ns, reverse=True)
        return matching[:limit]

    def _get(self, path: str, params: Optional[dict[str, str]]) -> Answer:
        return self._endpoint.get_json(path, params, self.timeout)

    def _require_ok(self, answer: Answer, path: str) -> None:
        if answer.status != 200:
            detail = _jaeger_error(answer.payload) or "not a Jaeger answer"
            raise self._endpoint.unavailable(f"{path} answered HTTP {answer.status}: {detail}")

    def _traces(self, answer: Answer, path: str) -> list[TraceView]:
        try:
            return traces_from_otlp_json(answer.payload)
        except OtlpFormatError as error:
            raise self._endpoint.unavailable(
                f"{path} answered malformed OTLP JSON ({error})"
            ) from None


def _jaeger_error(payload: Any) -> Optional[str]:
    """The message of Jaeger's ``{"error": {"httpCode", "message"}}``, None for anything else."""
    error = payload.get("error") if isinstance(payload, Mapping) else None
    if isinstance(error, Mapping) and isinstance(error.get("message"), str):
        return " ".join(error["message"].split())
    return None


def _v1_error(payload: Any) -> str:
    errors = payload.get("errors") if isinstance(payload, Mapping) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
        return " ".join(str(errors[0].get("msg", "")).split()) or "an error"
    return "not a Jaeger answer"


def _v1_start(span: Any) -> int:
    started = span.get("startTime", 0) if isinstance(span, Mapping) else 0
    return started if isinstance(started, int) else 0


def _micros(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

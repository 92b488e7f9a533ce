"""A small client of the Prometheus HTTP API (also Mimir, Thanos, VictoriaMetrics).

Only ``/api/v1/query``, ``/api/v1/query_range`` and ``/api/v1/label/<name>/values`` are used.
Every failure, including a query the backend rejects, raises :class:`BackendUnavailable` with
one line that names the URL; ``queries`` counts the requests made (the diagnosis keeps it
bounded).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Optional

from opentelemetry.instrumentation.wecom.diagnosis._endpoints import PROMETHEUS_URL_ENV
from opentelemetry.instrumentation.wecom.diagnosis._http import Answer, Endpoint

HINT = (
    "Start the local stack with `wecom-otel stack up`, or point --prometheus "
    f"(or ${PROMETHEUS_URL_ENV}) at a Prometheus-compatible query API"
)

Sample = tuple[dict[str, str], list[tuple[float, float]]]


class PrometheusClient:
    """The query API at ``base_url`` (``http://127.0.0.1:9090``), ``timeout`` s per request."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self._endpoint = Endpoint.parse("Prometheus", base_url, HINT)
        self.timeout = timeout
        self.queries = 0
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """The base URL, without credentials (safe to print)."""
        return self._endpoint.url

    def query(self, promql: str, at: float) -> list[Sample]:
        """An instant query: ``[(labels, [(time, value)])]``, one sample per series."""
        data = self._data("/api/v1/query", {"query": promql, "time": _number(at)})
        if data.get("resultType") != "vector":
            raise self._endpoint.unavailable(f"/api/v1/query answered a {data.get('resultType')}")
        return [(_labels(item), [_point(item.get("value"))]) for item in _result(data)]

    def query_range(self, promql: str, start: float, end: float, step: float) -> list[Sample]:
        """A range query: ``[(labels, [(time, value), ...])]``."""
        params = {
            "query": promql,
            "start": _number(start),
            "end": _number(end),
            "step": _number(step),
        }
        data = self._data("/api/v1/query_range", params)
        if data.get("resultType") != "matrix":
            raise self._endpoint.unavailable(
                f"/api/v1/query_range answered a {data.get('resultType')}"
            )
        return [
            (_labels(item), [_point(value) for value in item.get("values") or []])
            for item in _result(data)
        ]

    def label_values(self, label: str, match: str) -> list[str]:
        """The values ``label`` takes on the series ``match`` selects."""
        answer = self._get(f"/api/v1/label/{label}/values", {"match[]": match})
        data = self._success(answer, "/api/v1/label/.../values")
        if not isinstance(data, list):
            raise self._endpoint.unavailable("label values are not a list")
        return [str(value) for value in data]

    def _data(self, path: str, params: dict[str, str]) -> Mapping[str, Any]:
        data = self._success(self._get(path, params), path)
        if not isinstance(data, Mapping):
            raise self._endpoint.unavailable(f"{path} answered no data")
        return data

    def _get(self, path: str, params: dict[str, str]) -> Answer:
        with self._lock:
            self.queries += 1
        return self._endpoint.get_json(path, params, self.timeout)

    def _success(self, answer: Answer, path: str) -> Any:
        payload = answer.payload
        if not isinstance(payload, Mapping) or "status" not in payload:
            raise self._endpoint.unavailable(
                f"{path} answered HTTP {answer.status} with something that is not Prometheus'"
            )
        if payload["status"] != "success" or answer.status != 200:
            error = " ".join(str(payload.get("error", "")).split())[:200]
            kind = payload.get("errorType", "error")
            raise self._endpoint.unavailable(
                f"{path} answered HTTP {answer.status}: {kind}: {error or 'no detail'}"
            )
        return payload.get("data")


def _number(value: float) -> str:
    return f"{value:.3f}"


def _result(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    result = data.get("result")
    return [item for item in result or [] if isinstance(item, Mapping)]


def _labels(item: Mapping[str, Any]) -> dict[str, str]:
    metric = item.get("metric")
    return {str(k): str(v) for k, v in metric.items()} if isinstance(metric, Mapping) else {}


def _point(value: Optional[Any]) -> tuple[float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        return (0.0, float("nan"))
    try:
        return float(value[0]), float(value[1])
    except (TypeError, ValueError):
        return float(value[0]) if isinstance(value[0], (int, float)) else 0.0, float("nan")

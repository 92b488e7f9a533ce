"""Small clients for the Jaeger query API and the Prometheus HTTP API."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from typing import Any, Optional, TypeVar

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from opentelemetry.proto.trace.v1.trace_pb2 import TracesData

T = TypeVar("T")
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get_json(url: str, params: Optional[dict[str, str]] = None) -> Any:
    if params:
        url = f"{url}?{urllib.parse.urlencode(params)}"
    try:
        with _NO_PROXY.open(url, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise


def get_text(url: str) -> str:
    with _NO_PROXY.open(url, timeout=10) as response:
        data: bytes = response.read()
        return data.decode("utf-8", errors="replace")


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (strings, messages, map entries)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def find_traces_request(
    service: str, attributes: dict[str, str], lookback_s: int = 900, search_depth: int = 1000
) -> bytes:
    """``jaeger.api_v3.FindTracesRequest`` encoded by hand (no generated Jaeger stubs needed).

    TraceQueryParameters: service_name=1, attributes=3 (map<string,string>), start_time_min=4,
    start_time_max=5, search_depth=8 (jaeger-idl proto/api_v3/query_service.proto).
    """
    now = time.time()
    start, end = Timestamp(seconds=int(now - lookback_s)), Timestamp(seconds=int(now + 60))
    query = _field(1, service.encode())
    for key, value in attributes.items():
        query += _field(3, _field(1, key.encode()) + _field(2, value.encode()))
    query += _field(4, start.SerializeToString()) + _field(5, end.SerializeToString())
    query += _varint(8 << 3) + _varint(search_depth)
    return _field(1, query)


class Jaeger:
    def __init__(self, base_url: str, grpc_target: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.grpc_target = grpc_target

    def grpc_find_traces(self, service: str, attributes: dict[str, str]) -> set[str]:
        """Trace ids from the api_v3 gRPC ``FindTraces``, filtered by attribute in Jaeger."""
        return {trace_id for trace_id, _ in self.grpc_span_ids(service, attributes)}

    def grpc_span_ids(
        self, service: str, attributes: Optional[dict[str, str]] = None, search_depth: int = 1000
    ) -> set[tuple[str, str]]:
        """``(trace id, span id)`` of every span of the traces ``FindTraces`` returns."""
        request = find_traces_request(service, attributes or {}, search_depth=search_depth)
        with grpc.insecure_channel(self.grpc_target) as channel:
            find = channel.unary_stream(
                "/jaeger.api_v3.QueryService/FindTraces",
                request_serializer=lambda request: request,
                response_deserializer=TracesData.FromString,
            )
            found: set[tuple[str, str]] = set()
            try:
                for chunk in find(request, timeout=30):
                    for resource_spans in chunk.resource_spans:
                        for scope_spans in resource_spans.scope_spans:
                            found.update(
                                (s.trace_id.hex(), s.span_id.hex()) for s in scope_spans.spans
                            )
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.NOT_FOUND:
                    raise
            return found

    def v3_traces(
        self, service: str, attributes: Optional[dict[str, str]] = None, raw: bool = False
    ) -> Any:
        """``GET /api/v3/traces`` for the last 15 minutes (snake_case names, v2.13+)."""
        now = datetime.now(timezone.utc)
        params = {
            "query.service_name": service,
            "query.start_time_min": _rfc3339(now - timedelta(minutes=15)),
            "query.start_time_max": _rfc3339(now + timedelta(minutes=1)),
            "query.num_traces": "1000",
            "query.raw_traces": "true" if raw else "false",
        }
        if attributes:
            # Honoured by the HTTP gateway from Jaeger v2.19; older ones ignore it (the gRPC
            # API and /api/traces?tags= filter by attribute there).
            params["query.attributes"] = json.dumps(attributes)
        return get_json(f"{self.base_url}/api/v3/traces", params)

    def v1_search(self, service: str, tags: dict[str, str]) -> Any:
        """``GET /api/traces?service=&tags=`` (present up to v2.20; removed later)."""
        start = int((time.time() - 900) * 1_000_000)
        params = {"service": service, "tags": json.dumps(tags), "start": str(start), "limit": "100"}
        return get_json(f"{self.base_url}/api/traces", params)

    def operations(self, service: str) -> Any:
        return get_json(f"{self.base_url}/api/v3/operations", {"service": service})

    def spans(self, service: str) -> list[dict[str, Any]]:
        """Every span of ``service`` from /api/v3/traces, each with its resource attributes."""
        payload = self.v3_traces(service, raw=True)
        spans = []
        for resource_spans in (payload or {}).get("result", {}).get("resourceSpans", []):
            for scope_spans in resource_spans.get("scopeSpans", []):
                spans.extend(scope_spans.get("spans", []))
        return spans

    def traces(self, service: str) -> dict[str, list[dict[str, Any]]]:
        by_trace: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for span in self.spans(service):
            by_trace[span["traceId"]].append(span)
        return dict(by_trace)


def attributes(span: dict[str, Any]) -> dict[str, Any]:
    """OTLP-JSON attributes as plain values (int64 values arrive as strings)."""
    out: dict[str, Any] = {}
    for item in span.get("attributes", []):
        value = item.get("value", {})
        if "intValue" in value:
            out[item["key"]] = int(value["intValue"])
        elif value:
            out[item["key"]] = next(iter(value.values()))
    return out


class Prometheus:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def query(self, promql: str) -> list[dict[str, Any]]:
        payload = get_json(f"{self.base_url}/api/v1/query", {"query": promql})
        assert payload["status"] == "success", payload
        result: list[dict[str, Any]] = payload["data"]["result"]
        return result

    def values(self, promql: str, *labels: str) -> dict[tuple[str, ...], float]:
        """``{(label values...): value}`` for an instant vector."""
        return {
            tuple(sample["metric"].get(label, "") for label in labels): float(sample["value"][1])
            for sample in self.query(promql)
        }

    def alerts(self) -> list[dict[str, Any]]:
        payload = get_json(f"{self.base_url}/api/v1/alerts")
        alerts: list[dict[str, Any]] = payload["data"]["alerts"]
        return alerts


def collector_metrics(
    url: str, exporter: str = "otlp_grpc/jaeger", **labels: str
) -> dict[str, float]:
    """The collector's own ``otelcol_*`` series read from its metrics endpoint ``url``, summed
    over labels by name (``_total`` dropped). Of the per-exporter series only ``exporter``'s
    count; with ``labels``, only the series that carry those label values."""
    wanted = [f'{key}="{value}"' for key, value in labels.items()]
    totals: dict[str, float] = {}
    for line in get_text(url).splitlines():
        if not line.startswith("otelcol_") or " " not in line:
            continue
        name, _, value = line.rpartition(" ")
        if 'exporter="' in name and f'exporter="{exporter}"' not in name:
            continue
        if not all(label in name for label in wanted):
            continue
        key = name.split("{", 1)[0].removesuffix("_total")
        totals[key] = totals.get(key, 0.0) + float(value)
    return totals

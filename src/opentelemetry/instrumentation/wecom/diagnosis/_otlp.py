"""Spans into :class:`TraceView`: from OTLP JSON (Jaeger's ``api_v3``) or from SDK spans in memory.

OTLP JSON arrives in two dialects and both are read: the OTLP/HTTP spec's (hex ids, integer enum
values, int64 as strings: what Jaeger's gateway writes) and plain protobuf JSON (base64 ids,
enum names such as ``SPAN_KIND_CLIENT``). Malformed input raises :class:`OtlpFormatError`
naming what is wrong; the renderers and the engine only ever see well-formed views. Text values
(span and event names included) pass through the package's secret scrubber: a trace recorded by
another instrumentation (the stock httpx one puts ``access_token`` in ``url.full``) cannot carry
a secret into a report.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Optional

from opentelemetry.trace import SpanKind, StatusCode, format_span_id, format_trace_id

from opentelemetry.instrumentation.wecom._redaction import scrub
from opentelemetry.instrumentation.wecom.diagnosis._model import (
    AttributeValue,
    Scalar,
    SpanEvent,
    SpanView,
    TraceView,
)

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

__all__ = [
    "OtlpFormatError",
    "normalize_trace_id",
    "traces_from_otlp_json",
    "traces_from_spans",
]

_HEX = re.compile(r"[0-9a-fA-F]+")
_KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
_STATUSES = {0: "unset", 1: "ok", 2: "error"}


class OtlpFormatError(ValueError):
    """The JSON is not OTLP trace data (or a span in it lacks its ids)."""


def normalize_trace_id(text: str) -> str:
    """A trace id as 32 lower-case hex digits (shorter hex is zero-padded, as Jaeger does).

    ValueError when ``text`` is not 1 to 32 hex digits or is all zeros (an invalid trace id).
    """
    candidate = text.strip().lower()
    if candidate.startswith("0x"):
        candidate = candidate[2:]
    if not 0 < len(candidate) <= 32 or not _HEX.fullmatch(candidate) or not int(candidate, 16):
        raise ValueError(f"a trace id is 1 to 32 hex digits, not all zero; got {text!r}")
    return candidate.rjust(32, "0")


def traces_from_otlp_json(payload: object) -> list[TraceView]:
    """Every trace in an OTLP JSON document, in order of first appearance.

    Accepts Jaeger's envelope ``{"result": {"resourceSpans": [...]}}`` or a bare
    ``{"resourceSpans": [...]}``. Spans of several traces may be mixed (Jaeger's search merges
    them into one list); they are grouped by trace id.
    """
    if isinstance(payload, Mapping) and isinstance(payload.get("result"), Mapping):
        payload = payload["result"]
    if not isinstance(payload, Mapping) or not isinstance(payload.get("resourceSpans"), list):
        raise OtlpFormatError("expected an object with a resourceSpans list")
    spans: list[SpanView] = []
    for index, resource_spans in enumerate(payload.get("resourceSpans", [])):
        where = f"resourceSpans[{index}]"
        resource = _attributes(_object(resource_spans, where).get("resource", {}), where)
        for s_index, scope_spans in enumerate(_list(resource_spans, "scopeSpans", where)):
            scope_where = f"{where}.scopeSpans[{s_index}]"
            for p_index, span in enumerate(_list(scope_spans, "spans", scope_where)):
                spans.append(_span(span, resource, f"{scope_where}.spans[{p_index}]"))
    return _grouped(spans)


def traces_from_spans(spans: Iterable[ReadableSpan]) -> list[TraceView]:
    """Finished SDK spans (e.g. from an in-memory exporter) as trace views, grouped by trace."""
    views = []
    for span in spans:
        context = span.context
        if context is None:
            continue
        parent = span.parent
        views.append(
            SpanView(
                trace_id=format_trace_id(context.trace_id),
                span_id=format_span_id(context.span_id),
                parent_span_id=format_span_id(parent.span_id) if parent is not None else None,
                name=scrub(span.name),
                kind=_sdk_kind(span.kind),
                start_ns=span.start_time or 0,
                end_ns=span.end_time or span.start_time or 0,
                status=_sdk_status(span.status.status_code),
                status_message=scrub(span.status.description or ""),
                attributes=_plain(span.attributes or {}),
                events=tuple(
                    SpanEvent(scrub(event.name), event.timestamp, _plain(event.attributes or {}))
                    for event in span.events
                ),
                resource=_plain(span.resource.attributes),
            )
        )
    return _grouped(views)


def _grouped(spans: Sequence[SpanView]) -> list[TraceView]:
    by_trace: dict[str, list[SpanView]] = {}
    for span in spans:
        by_trace.setdefault(span.trace_id, []).append(span)
    return [
        TraceView(trace_id, tuple(sorted(members, key=lambda s: (s.start_ns, s.span_id))))
        for trace_id, members in by_trace.items()
    ]


def _span(raw: object, resource: Mapping[str, AttributeValue], where: str) -> SpanView:
    span = _object(raw, where)
    trace_id = _id(span.get("traceId"), 16, f"{where}.traceId")
    span_id = _id(span.get("spanId"), 8, f"{where}.spanId")
    parent = span.get("parentSpanId")
    status = _object(span.get("status") or {}, f"{where}.status")
    start = _int(span.get("startTimeUnixNano", 0), f"{where}.startTimeUnixNano")
    end = _int(span.get("endTimeUnixNano", start), f"{where}.endTimeUnixNano")
    return SpanView(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=_id(parent, 8, f"{where}.parentSpanId") if parent else None,
        name=scrub(str(span.get("name", ""))),
        kind=_enum(span.get("kind", 0), _KINDS, "SPAN_KIND_"),
        start_ns=start,
        end_ns=end,
        status=_enum(status.get("code", 0), _STATUSES, "STATUS_CODE_"),
        status_message=scrub(str(status.get("message", ""))),
        attributes=_attributes(span, where),
        events=tuple(
            _event(event, f"{where}.events[{index}]")
            for index, event in enumerate(_list(span, "events", where))
        ),
        resource=resource,
    )


def _event(raw: object, where: str) -> SpanEvent:
    event = _object(raw, where)
    return SpanEvent(
        name=scrub(str(event.get("name", ""))),
        time_ns=_int(event.get("timeUnixNano", 0), f"{where}.timeUnixNano"),
        attributes=_attributes(event, where),
    )


def _attributes(holder: object, where: str) -> dict[str, AttributeValue]:
    attributes: dict[str, AttributeValue] = {}
    for index, item in enumerate(_list(_object(holder, where), "attributes", where)):
        pair = _object(item, f"{where}.attributes[{index}]")
        key = pair.get("key")
        if not isinstance(key, str):
            raise OtlpFormatError(f"{where}.attributes[{index}] has no string key")
        value = _value(pair.get("value", {}))
        if value is not None:
            attributes[key] = _scrubbed(value)
    return attributes


def _value(any_value: object) -> Optional[AttributeValue]:
    """An OTLP ``AnyValue`` as a scalar or a tuple of scalars (nested maps become JSON text)."""
    if not isinstance(any_value, Mapping) or not any_value:
        return None
    if "arrayValue" in any_value:
        items = any_value["arrayValue"] or {}
        values = items.get("values", []) if isinstance(items, Mapping) else []
        return tuple(_scalar(item) for item in values if isinstance(item, Mapping))
    return _scalar(any_value)


def _scalar(any_value: Mapping[str, Any]) -> Scalar:
    for key, convert in _SCALARS:
        if key in any_value:
            try:
                return convert(any_value[key])
            except (TypeError, ValueError):
                return str(any_value[key])
    if "kvlistValue" in any_value:
        kvlist = any_value["kvlistValue"] or {}
        entries = kvlist.get("values", []) if isinstance(kvlist, Mapping) else []
        as_dict = {
            str(entry.get("key")): _json_ready(_value(entry.get("value", {})))
            for entry in entries
            if isinstance(entry, Mapping)
        }
        return json.dumps(as_dict, ensure_ascii=False, sort_keys=True)
    return json.dumps(any_value, ensure_ascii=False, sort_keys=True, default=str)


def _bool(raw: object) -> bool:
    return raw is True or raw == "true"


# AnyValue's scalar fields and how each becomes a Python value (bytes stay base64 text).
_SCALARS: tuple[tuple[str, Callable[[Any], Scalar]], ...] = (
    ("stringValue", str),
    ("boolValue", _bool),
    ("intValue", int),
    ("doubleValue", float),
    ("bytesValue", str),
)


def _json_ready(value: Optional[AttributeValue]) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _id(raw: object, size: int, where: str) -> str:
    """A trace (16 bytes) or span (8 bytes) id from hex or base64 text, as lower-case hex."""
    if isinstance(raw, str):
        if len(raw) == 2 * size and _HEX.fullmatch(raw):
            return raw.lower()
        try:
            decoded = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            decoded = b""
        if len(decoded) == size:
            return decoded.hex()
    raise OtlpFormatError(f"{where}: expected {2 * size} hex digits or base64, got {raw!r}")


def _enum(raw: object, names: Mapping[int, str], prefix: str) -> str:
    if isinstance(raw, str):
        if raw.isdigit():
            raw = int(raw)
        else:
            return raw.removeprefix(prefix).lower()
    if isinstance(raw, int) and not isinstance(raw, bool):
        return names.get(raw, str(raw))
    return names[0]


def _int(raw: object, where: str) -> int:
    if isinstance(raw, bool):
        raise OtlpFormatError(f"{where}: expected an integer, got {raw!r}")
    try:
        return int(str(raw))
    except (TypeError, ValueError):
        raise OtlpFormatError(f"{where}: expected an integer, got {raw!r}") from None


def _object(raw: object, where: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise OtlpFormatError(f"{where}: expected an object, got {type(raw).__name__}")
    return raw


def _list(holder: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = holder.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise OtlpFormatError(f"{where}.{key}: expected a list, got {type(value).__name__}")
    return value


def _plain(attributes: Mapping[str, Any]) -> dict[str, AttributeValue]:
    """SDK attribute values (scalars or sequences of them) as the view's immutable values."""
    return {
        key: _scrubbed(tuple(value) if isinstance(value, (list, tuple)) else value)
        for key, value in attributes.items()
    }


def _scrubbed(value: AttributeValue) -> AttributeValue:
    """Secrets out of text values: another instrumentation may have recorded one (defence in
    depth; this package's own attributes are already clean)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, tuple):
        return tuple(scrub(item) if isinstance(item, str) else item for item in value)
    return value


def _sdk_kind(kind: SpanKind) -> str:
    return kind.name.lower()


def _sdk_status(code: StatusCode) -> str:
    return code.name.lower()

"""Trace views from in-memory SDK spans and from OTLP JSON agree, in every JSON dialect."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode, format_trace_id

from opentelemetry.instrumentation.wecom.diagnosis._otlp import (
    OtlpFormatError,
    normalize_trace_id,
    traces_from_otlp_json,
    traces_from_spans,
)
from tests.diagnosis.replay import Exchange


def _spans() -> tuple[ReadableSpan, ...]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": "billing", "service.version": "3.1.0"})
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("notify"):
        with tracer.start_as_current_span("wecom message/send", kind=SpanKind.CLIENT) as call:
            call.set_attributes(
                {
                    "wecom.api": "message/send",
                    "wecom.errcode": 81013,
                    "wecom.error.retryable": False,
                    "wecom.latency_budget": 0.25,
                    "wecom.message.invalid_users": ("former_employee", "qianba"),
                    "wecom.batch_sizes": (3, 1),
                }
            )
            call.add_event("retry", {"attempt": 2, "reason": "token refreshed"})
            call.set_status(Status(StatusCode.ERROR, "WeCom errcode 81013: user invalid"))
        with tracer.start_as_current_span("wecom gettoken", kind=SpanKind.CLIENT):
            pass
    provider.shutdown()
    return exporter.get_finished_spans()


def test_in_memory_spans_become_one_trace_with_parents_and_typed_values() -> None:
    spans = _spans()

    (trace,) = traces_from_spans(spans)

    assert trace.trace_id == format_trace_id(spans[0].context.trace_id)
    assert [span.name for span in trace.spans] == ["notify", "wecom message/send", "wecom gettoken"]
    root, call, gettoken = trace.spans
    assert root.parent_span_id is None
    assert call.parent_span_id == gettoken.parent_span_id == root.span_id
    assert (root.kind, call.kind) == ("internal", "client")
    assert (call.status, call.status_message) == ("error", "WeCom errcode 81013: user invalid")
    assert gettoken.status == "unset"
    assert call.attributes["wecom.message.invalid_users"] == ("former_employee", "qianba")
    assert call.attributes["wecom.errcode"] == 81013
    assert call.events[0].name == "retry"
    assert call.events[0].attributes == {"attempt": 2, "reason": "token refreshed"}
    assert call.resource["service.version"] == "3.1.0"
    assert call.service == "billing"
    assert root.duration_ns >= call.duration_ns > 0


@pytest.mark.parametrize("integer_enums", [False, True], ids=["enum-names", "enum-numbers"])
def test_protobuf_json_with_base64_ids_reads_like_the_spans_it_came_from(
    integer_enums: bool,
) -> None:
    spans = _spans()
    request = encode_spans(spans)
    document = MessageToDict(request, use_integers_for_enums=integer_enums)
    first = document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert len(first["traceId"]) == 24  # base64 of 16 bytes, not 32 hex digits

    assert traces_from_otlp_json(document) == traces_from_spans(spans)


def test_hex_ids_and_integer_enums_as_jaeger_writes_them() -> None:
    spans = _spans()
    document = MessageToDict(encode_spans(spans), use_integers_for_enums=True)
    for resource_spans in document["resourceSpans"]:
        for scope_spans in resource_spans["scopeSpans"]:
            for span in scope_spans["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = _base64_to_hex(span[key])

    assert traces_from_otlp_json({"result": document}) == traces_from_spans(spans)


def test_spans_of_several_traces_in_one_list_are_grouped_by_trace() -> None:
    payload: dict[str, Any] = Exchange.load("search_v3_service").json()

    traces = traces_from_otlp_json(payload)

    assert len(traces) == 5
    for trace in traces:
        assert {span.trace_id for span in trace.spans} == {trace.trace_id}
        assert sum(span.parent_span_id is None for span in trace.spans) == 1


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({"result": {}}, "resourceSpans list"),
        ({"resourceSpans": "nope"}, "resourceSpans list"),
        (
            {"resourceSpans": [{"scopeSpans": [{"spans": [{"spanId": "00f067aa0ba902b7"}]}]}]},
            r"resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.traceId",
        ),
        ({"resourceSpans": [{"scopeSpans": [{"spans": [7]}]}]}, "expected an object"),
        ({"resourceSpans": [{"scopeSpans": {"spans": []}}]}, r"scopeSpans: expected a list"),
        (
            {
                "resourceSpans": [
                    {
                        "scopeSpans": [
                            {
                                "spans": [
                                    {
                                        "traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
                                        "spanId": "00f067aa0ba902b7",
                                        "startTimeUnixNano": "soon",
                                    }
                                ]
                            }
                        ]
                    }
                ]
            },
            "startTimeUnixNano: expected an integer",
        ),
    ],
)
def test_malformed_otlp_json_names_where(payload: Any, where: str) -> None:
    with pytest.raises(OtlpFormatError, match=where):
        traces_from_otlp_json(payload)


def test_any_values_of_every_kind() -> None:
    attributes = [
        {"key": "s", "value": {"stringValue": "text"}},
        {"key": "i", "value": {"intValue": "9007199254740993"}},
        {"key": "d", "value": {"doubleValue": 0.5}},
        {"key": "b", "value": {"boolValue": True}},
        {"key": "a", "value": {"arrayValue": {"values": [{"intValue": "1"}, {"intValue": "2"}]}}},
        {
            "key": "m",
            "value": {"kvlistValue": {"values": [{"key": "x", "value": {"stringValue": "y"}}]}},
        },
        {"key": "empty", "value": {}},
    ]
    span = {
        "traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
        "spanId": "00f067aa0ba902b7",
        "parentSpanId": "",
        "attributes": attributes,
    }

    (trace,) = traces_from_otlp_json({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]})

    assert dict(trace.spans[0].attributes) == {
        "s": "text",
        "i": 9007199254740993,
        "d": 0.5,
        "b": True,
        "a": (1, 2),
        "m": '{"x": "y"}',
    }
    assert trace.spans[0].parent_span_id is None
    assert (trace.spans[0].kind, trace.spans[0].status) == ("unspecified", "unset")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4BF92F3577B34DA6A3CE929D0E0E4736", "4bf92f3577b34da6a3ce929d0e0e4736"),
        (" a3ce929d0e0e4736 ", "0000000000000000a3ce929d0e0e4736"),
        ("0x1", "0" * 31 + "1"),
    ],
)
def test_normalize_trace_id(text: str, expected: str) -> None:
    assert normalize_trace_id(text) == expected


@pytest.mark.parametrize("text", ["", "xyz", "0" * 32, "1" * 33, "4bf9-2f35"])
def test_normalize_trace_id_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="1 to 32 hex digits"):
        normalize_trace_id(text)


def _base64_to_hex(text: str) -> str:
    return base64.b64decode(text).hex()


def test_secrets_recorded_by_another_instrumentation_are_scrubbed() -> None:
    leaked = "https://qyapi.weixin.qq.com/cgi-bin/message/send?access_token=SECRET-TOKEN-1"
    span = {
        "traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
        "spanId": "00f067aa0ba902b7",
        "name": f"POST {leaked}",
        "attributes": [
            {"key": "url.full", "value": {"stringValue": leaked}},
            {
                "key": "list",
                "value": {"arrayValue": {"values": [{"stringValue": "corpsecret=SECRET-2"}]}},
            },
        ],
        "events": [
            {
                "name": "exception",
                "attributes": [
                    {"key": "exception.message", "value": {"stringValue": f"failed: {leaked}"}}
                ],
            },
            {"name": f"redirected to {leaked}"},
        ],
        "status": {"code": 2, "message": "GET ?corpsecret=SECRET-3 failed"},
    }

    (trace,) = traces_from_otlp_json({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]})

    assert "SECRET" not in repr(trace)
    assert trace.spans[0].attributes["url.full"] == leaked.replace("SECRET-TOKEN-1", "REDACTED")

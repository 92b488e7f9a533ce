"""The rig of the differential fuzz: servers, telemetry, and the checks of one call.

:class:`Rig` owns two loopback :class:`WireServer` s sharing one case table:
``127.0.0.1`` is configured as the WeCom host, ``127.0.0.2`` is "another
host" (a gateway or CDN). :func:`check` compares what the app saw bare and
instrumented and checks what the instrumentation exported for that call.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Optional
from urllib.parse import urlsplit

from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.metrics.export import HistogramDataPoint, MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from tests._telemetry import InMemoryTelemetry, data_points

from ._modes import Mode, Request, Seen
from ._responses import CANARY, CORP_SECRET, HOP_TOKEN, URL_TOKEN, Case
from ._wire import Wire, WireServer

INT64 = (-(2**63), 2**63 - 1)
DURATION = "wecom.client.duration"


class _Records(logging.Handler):
    """Every log record of the OpenTelemetry loggers (the package's, the SDK's, the encoder's)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Exported:
    """What the instrumentation exported during one instrumented call."""

    spans: list[ReadableSpan]
    metrics: Optional[MetricsData]
    records: list[logging.LogRecord]

    def duration_points(self) -> list[HistogramDataPoint]:
        return data_points(self.metrics, DURATION)


@dataclass
class Stats:
    calls: int = 0
    spans: int = 0
    points: int = 0
    by_mode: dict[str, int] = field(default_factory=dict)
    findings: dict[str, int] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)

    def found(self, finding: AssertionError, case: Case) -> None:
        """Count a failed property under its family: the message without its values."""
        message = str(finding).splitlines()[0]
        family = re.sub(r"\d+", "N", message.split(":", 1)[0])[:120]
        self.findings[family] = self.findings.get(family, 0) + 1
        self.examples.setdefault(family, f"{message[:300]} <- {case!r}"[:600])


class Rig:
    """Loopback servers, the SDK with in-memory exporters, and instrumentation on demand."""

    def __init__(self) -> None:
        self.wecom = WireServer("127.0.0.1")
        self.other = self.wecom.sibling("127.0.0.2")
        self.telemetry = InMemoryTelemetry(delta_histograms=True)
        self._records = _Records()
        self.stats = Stats()

    def __enter__(self) -> Rig:
        self.wecom.__enter__()
        self.other.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wecom.__exit__(*exc)
        self.other.__exit__(*exc)
        self.telemetry.meter_provider.shutdown()
        self.telemetry.tracer_provider.shutdown()

    def request_for(self, case: Case, case_id: str) -> Request:
        return Request(
            method=case.method,
            url=self._first_url(case, case_id),
            direct_url=self._url(self.wecom, case.path, case_id, URL_TOKEN, case),
            json=case.request_json,
            case=case,
        )

    def register(self, case: Case) -> str:
        """Put the case's responses on the servers; returns its id."""
        responses: dict[str, Wire] = {}
        case_id = self.wecom.register(responses)
        final_server = self.wecom
        if case.redirect is not None:
            first, final_server = {
                "wecom->wecom": (self.wecom, self.wecom),
                "other->wecom": (self.other, self.wecom),
                "wecom->other": (self.wecom, self.other),
            }[case.redirect.route]
            final = self._url(final_server, case.path, case_id, HOP_TOKEN, case)
            responses[f"{first.authority}/hop{case.path}"] = Wire(
                status_line=b"HTTP/1.1 %d Moved" % case.redirect.status,
                headers=((b"Location", final.encode()),),
                body=b"moved",
            )
        responses[f"{final_server.authority}{case.path}"] = case.wire
        return case_id

    def _first_url(self, case: Case, case_id: str) -> str:
        if case.redirect is None:
            return self._url(self.wecom, case.path, case_id, URL_TOKEN, case)
        first = self.other if case.redirect.route == "other->wecom" else self.wecom
        return self._url(first, "/hop" + case.path, case_id, URL_TOKEN, case)

    @staticmethod
    def _url(server: WireServer, path: str, case_id: str, token: str, case: Case) -> str:
        query = f"case={case_id}&access_token={token}"
        if case.path == "/cgi-bin/gettoken":
            query = f"case={case_id}&corpid=ww1&corpsecret={CORP_SECRET}"
        return f"http://{server.authority}{path}?{query}"

    def is_wecom(self, url: str) -> bool:
        return urlsplit(url).netloc == self.wecom.authority

    @contextmanager
    def instrumented(self) -> Iterator[None]:
        logger = logging.getLogger("opentelemetry")
        previous = logger.level
        with self.telemetry.instrumenting(hosts=[self.wecom.authority], call_log=True):
            logger.setLevel(logging.DEBUG)
            logger.addHandler(self._records)
            try:
                yield
            finally:
                logger.removeHandler(self._records)
                logger.setLevel(previous)

    def take(self) -> Exported:
        """What was exported since the last ``take``."""
        spans = list(self.telemetry.exporter.get_finished_spans())
        self.telemetry.exporter.clear()
        records, self._records.records = self._records.records, []
        return Exported(spans, self.telemetry.reader.get_metrics_data(), records)


def check(rig: Rig, mode: Mode, request: Request, *, bare: Seen, seen: Seen, got: Exported) -> None:
    """Every property of one call; raises AssertionError naming the first that fails."""
    where = f"[{mode.name}]"
    assert seen.events == bare.events, (
        f"{where} the app saw something else instrumented: {_first_difference(bare, seen)}"
    )
    expected_calls = 1 if rig.is_wecom(mode.url_for(request)) else 0
    spans = [s for s in got.spans if s.name.startswith("wecom ")]
    assert len(got.spans) == len(spans), f"{where} spans other than WeCom's: {got.spans}"
    assert len(spans) == expected_calls, f"{where} {len(spans)} spans for {expected_calls} calls"
    points = sum(p.count for p in got.duration_points())
    assert points == expected_calls, f"{where} {points} duration points for {expected_calls} calls"
    _check_records(where, got.records)
    _check_encodable(where, got)
    _check_no_secret(where, got)
    rig.stats.calls += 1
    rig.stats.spans += len(spans)
    rig.stats.points += points
    rig.stats.by_mode[mode.name] = rig.stats.by_mode.get(mode.name, 0) + 1
    if not spans:
        return
    span = spans[0]
    _check_exception(where, span, seen)
    _check_errcode(where, mode, span, request.case, seen)


def _first_difference(bare: Seen, seen: Seen) -> str:
    for index, (one, other) in enumerate(zip(bare.events, seen.events)):
        if one != other:
            return f"event {index}: bare {str(one)[:200]} / instrumented {str(other)[:200]}"
    return f"{len(bare.events)} events bare, {len(seen.events)} instrumented"


def _check_records(where: str, records: list[logging.LogRecord]) -> None:
    for record in records:
        message = f"{where} logged {record.levelname} {record.name}: {record.getMessage()}"
        assert "internal error" not in record.getMessage(), message + _exc_text(record)
        assert record.levelno < logging.WARNING, message + _exc_text(record)


def _exc_text(record: logging.LogRecord) -> str:
    if not record.exc_info:
        return ""
    return "\n" + logging.Formatter().formatException(record.exc_info)


def _check_exception(where: str, span: ReadableSpan, seen: Seen) -> None:
    """The span records the exception the app saw, and no other; an early close is not one."""
    events = [e for e in span.events if e.name == "exception"]
    attributes = dict(span.attributes or {})
    raised = seen.call_exception()
    if raised is None:
        assert not events, f"{where} exception recorded, the app saw none: {events[0].attributes}"
        if attributes.get("wecom.status") == "system_error":
            status_code = attributes.get("http.response.status_code")
            assert isinstance(status_code, int), f"{where} system_error, no exception: {attributes}"
            assert status_code >= 400, f"{where} system_error, no exception: {attributes}"
        return
    _, _, _, qualname, _ = raised
    assert len(events) == 1, f"{where} {len(events)} exception events; the app saw {raised}"
    event_attributes = dict(events[0].attributes or {})
    assert event_attributes.get("exception.type") == qualname, (
        f"{where} span recorded {event_attributes.get('exception.type')}, app saw {qualname}"
    )
    assert span.status.status_code is StatusCode.ERROR, f"{where} exception but status not ERROR"


def _check_errcode(where: str, mode: Mode, span: ReadableSpan, case: Case, seen: Seen) -> None:
    """A well-formed JSON body the app read whole yields exactly its errcode."""
    content_type = (case.content_type or "").lower()
    if (
        case.expected_errcode is None
        or not case.clean_transport
        or seen.call_exception() is not None
        or not mode.reads_all
        or not mode.observes_reads
        or not (mode.decodes or case.content_encoding in (None, "identity", "x-unknown"))
        or not (content_type == "" or "json" in content_type or content_type.startswith("text/"))
    ):
        return
    attributes = dict(span.attributes or {})
    expected: Any = case.expected_errcode
    if not INT64[0] <= expected <= INT64[1]:
        expected = str(expected)
    assert attributes.get("wecom.errcode") == expected, (
        f"{where} wecom.errcode={attributes.get('wecom.errcode')!r}, the body says {expected!r}"
    )


def _check_encodable(where: str, got: Exported) -> None:
    """Every span and point survives the real OTLP encoder and protobuf, attribute for attribute."""
    if got.spans:
        data = encode_spans(got.spans).SerializeToString()
        decoded = ExportTraceServiceRequest.FromString(data)
        encoded_spans = [
            span
            for resource in decoded.resource_spans
            for scope in resource.scope_spans
            for span in scope.spans
        ]
        for original, encoded in zip(got.spans, encoded_spans):
            keys = {kv.key for kv in encoded.attributes}
            assert keys == set(original.attributes or {}), (
                f"{where} attributes lost in OTLP: {set(original.attributes or {}) - keys}"
            )
            assert encoded.status.message == (original.status.description or ""), where
            for value in (original.attributes or {}).values():
                assert not isinstance(value, float) or math.isfinite(value), where
    if got.metrics is not None:
        ExportMetricsServiceRequest.FromString(encode_metrics(got.metrics).SerializeToString())


def _check_no_secret(where: str, got: Exported) -> None:
    texts = [span.to_json() for span in got.spans]
    if got.metrics is not None:
        texts.append(got.metrics.to_json())
    for record in got.records:
        texts.append(record.getMessage())
        texts.append(repr(record.__dict__))
    for text in texts:
        for secret in (CANARY, URL_TOKEN, HOP_TOKEN, CORP_SECRET):
            assert secret not in text, (
                f"{where} a secret in telemetry: ...{_around(text, secret)}..."
            )


def _around(text: str, needle: str) -> str:
    index = text.find(needle)
    return text[max(index - 80, 0) : index + 80]

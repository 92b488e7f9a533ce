"""What a diagnosis finds: typed, immutable values and their documented JSON form.

The engine builds a :class:`Diagnosis`; the renderers (terminal, JSON, HTML) only read it.
``Diagnosis.to_dict()`` is the ``--json`` contract described in ``docs/diagnosis.md`` and
checked against ``diagnosis.schema.json``: add fields freely, never rename or remove one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Final, Literal, Optional, Union

Severity = Literal["critical", "warning", "info"]

#: Severities from the most to the least urgent.
SEVERITIES: Final[tuple[Severity, ...]] = ("critical", "warning", "info")

#: The cause ids of the catalogue. They are a contract: scripts and alerts select on them.
CAUSES: Final[tuple[str, ...]] = (
    "token_expired",
    "token_refresh_failing",
    "token_overfetch",
    "ip_not_trusted",
    "rate_limited",
    "recipients_unreachable",
    "permission_denied",
    "invalid_request",
    "wecom_unavailable",
    "network_error",
    "latency_degradation",
    "telemetry_loss",
    # No pattern of the catalogue matched, but something is anomalous: says what and where.
    "unexplained",
)

Scalar = Union[str, bool, int, float]
AttributeValue = Union[Scalar, tuple[Scalar, ...]]


def _iso(moment: Optional[datetime]) -> Optional[str]:
    """RFC 3339 in UTC with a ``Z``, millisecond precision (``2026-12-03T18:39:23.123Z``)."""
    if moment is None:
        return None
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime):
        return _iso(value)
    return value


@dataclass(frozen=True)
class Window:
    """The time range a diagnosis looked at (timezone-aware datetimes)."""

    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        return {"start": _iso(self.start), "end": _iso(self.end)}


@dataclass(frozen=True)
class Finding:
    """One cause the engine believes explains part of what went wrong, with its proof.

    ``failed_calls`` are the failed calls this cause accounts for; ``calls`` the calls made to
    ``apis`` while it lasted, for scale. ``evidence`` is one human-readable sentence per fact
    (each names where it comes from: a PromQL query result, a span attribute of a trace).
    ``trace_ids`` are ids Jaeger (or the in-memory source) returned. ``details`` holds the
    cause-specific facts a script may want (``egress_ip``, ``peak_calls_per_minute``,
    ``service_version``, ``recipients_dropped`` ...), documented per cause.
    """

    cause: str
    severity: Severity
    summary: str
    started_at: Optional[datetime]
    ended_at: Optional[datetime]
    apis: tuple[str, ...]
    errcodes: tuple[int, ...]
    failed_calls: int
    evidence: tuple[str, ...]
    trace_ids: tuple[str, ...]
    remediation: str
    calls: int = 0
    details: Mapping[str, Scalar] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cause": self.cause,
            "severity": self.severity,
            "summary": self.summary,
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
            "apis": list(self.apis),
            "errcodes": list(self.errcodes),
            "calls": self.calls,
            "failed_calls": self.failed_calls,
            "evidence": list(self.evidence),
            "trace_ids": list(self.trace_ids),
            "remediation": self.remediation,
            "details": dict(self.details),
        }


@dataclass(frozen=True)
class ApiSummary:
    """Totals of one API over the window."""

    api: str
    calls: int
    failed_calls: int
    p99_seconds: Optional[float]

    @property
    def error_ratio(self) -> float:
        return self.failed_calls / self.calls if self.calls else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "api": self.api,
            "calls": self.calls,
            "failed_calls": self.failed_calls,
            "error_ratio": round(self.error_ratio, 6),
            "p99_seconds": self.p99_seconds,
        }


@dataclass(frozen=True)
class ApiSeries:
    """One API over the window, step by step: what the HTML charts draw.

    The tuples are parallel: ``timestamps[i]`` (unix seconds, the end of step ``i``) has
    ``calls[i]`` calls, ``errors[i]`` failed ones and a p99 of ``p99_seconds[i]`` (None when
    there were no calls in that step).
    """

    api: str
    step_seconds: float
    timestamps: tuple[float, ...]
    calls: tuple[float, ...]
    errors: tuple[float, ...]
    p99_seconds: tuple[Optional[float], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "api": self.api,
            "step_seconds": self.step_seconds,
            "timestamps": list(self.timestamps),
            "calls": list(self.calls),
            "errors": list(self.errors),
            "p99_seconds": list(self.p99_seconds),
        }


@dataclass(frozen=True)
class ErrcodeSummary:
    """One errcode seen in the window, with what the knowledge base says about it."""

    errcode: int
    count: int
    apis: tuple[str, ...]
    meaning: str
    category: str
    retryable: bool
    remediation: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "errcode": self.errcode,
            "count": self.count,
            "apis": list(self.apis),
            "meaning": self.meaning,
            "category": self.category,
            "retryable": self.retryable,
            "remediation": self.remediation,
        }


@dataclass(frozen=True)
class SpanEvent:
    name: str
    time_ns: int
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "time_ns": self.time_ns,
            "attributes": {k: _jsonable(v) for k, v in self.attributes.items()},
        }


@dataclass(frozen=True)
class SpanView:
    """One span as the waterfall and the evidence read it (from OTLP JSON or in-memory spans).

    ``status`` is ``"unset"``, ``"ok"`` or ``"error"``; ``kind`` is the lower-case OTLP kind
    without prefix (``"client"``, ``"server"``, ``"internal"`` ...). ``resource`` holds the
    resource attributes of the process that made it (``service.name``, ``service.version``,
    ``host.name`` ...).
    """

    trace_id: str
    span_id: str
    parent_span_id: Optional[str]
    name: str
    kind: str
    start_ns: int
    end_ns: int
    status: str
    status_message: str = ""
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    events: tuple[SpanEvent, ...] = ()
    resource: Mapping[str, AttributeValue] = field(default_factory=dict)

    @property
    def service(self) -> str:
        return str(self.resource.get("service.name", ""))

    @property
    def duration_ns(self) -> int:
        return max(0, self.end_ns - self.start_ns)

    def to_dict(self) -> dict[str, Any]:
        return {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "parent_span_id": self.parent_span_id,
            "name": self.name,
            "kind": self.kind,
            "start_ns": self.start_ns,
            "end_ns": self.end_ns,
            "status": self.status,
            "status_message": self.status_message,
            "attributes": {k: _jsonable(v) for k, v in self.attributes.items()},
            "events": [event.to_dict() for event in self.events],
            "resource": {k: _jsonable(v) for k, v in self.resource.items()},
        }


@dataclass(frozen=True)
class TraceView:
    """One example trace: its spans, in start order."""

    trace_id: str
    spans: tuple[SpanView, ...]

    @property
    def start_ns(self) -> int:
        return min((span.start_ns for span in self.spans), default=0)

    @property
    def end_ns(self) -> int:
        return max((span.end_ns for span in self.spans), default=0)

    def to_dict(self) -> dict[str, Any]:
        return {"trace_id": self.trace_id, "spans": [span.to_dict() for span in self.spans]}


@dataclass(frozen=True)
class Diagnosis:
    """Everything one ``diagnose()`` found, most likely root cause first.

    ``notes`` say what limits the diagnosis itself (a backend that could not be reached,
    a window without data, an unknown service); ``sources`` name where the data came from
    (``{"metrics": "http://127.0.0.1:9090", "traces": "http://127.0.0.1:16686"}``).
    """

    service: Optional[str]
    window: Window
    calls: int
    failed_calls: int
    findings: tuple[Finding, ...]
    apis: tuple[ApiSummary, ...] = ()
    errcodes: tuple[ErrcodeSummary, ...] = ()
    recipients_dropped: int = 0
    series: tuple[ApiSeries, ...] = ()
    traces: tuple[TraceView, ...] = ()
    notes: tuple[str, ...] = ()
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        """True when no finding is critical or a warning."""
        return all(finding.severity == "info" for finding in self.findings)

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document (``docs/diagnosis.md``, ``diagnosis.schema.json``)."""
        return {
            "service": self.service,
            "window": self.window.to_dict(),
            "calls": self.calls,
            "failed_calls": self.failed_calls,
            "healthy": self.healthy,
            "findings": [finding.to_dict() for finding in self.findings],
            "apis": [api.to_dict() for api in self.apis],
            "errcodes": [code.to_dict() for code in self.errcodes],
            "recipients_dropped": self.recipients_dropped,
            "series": [series.to_dict() for series in self.series],
            "traces": [trace.to_dict() for trace in self.traces],
            "notes": list(self.notes),
            "sources": dict(self.sources),
        }

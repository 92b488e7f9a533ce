"""Diagnoses for the renderer tests: the engine's result shape, with traces recorded from Jaeger.

The renderers only read a :class:`Diagnosis`; these values hold what an engine fills in (an
untrusted-IP incident with a token expiry beside it, the errcode table from the package's
knowledge base, a per-API series) and the example traces recorded from the real Jaeger.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone
from typing import Optional

from opentelemetry.instrumentation.wecom.diagnosis import (
    ApiSeries,
    ApiSummary,
    Diagnosis,
    ErrcodeSummary,
    Finding,
    TraceView,
    Window,
)
from opentelemetry.instrumentation.wecom.diagnosis._otlp import traces_from_otlp_json
from opentelemetry.instrumentation.wecom.errcodes import explain
from tests.diagnosis.replay import RECORDINGS, Exchange

START = datetime(2026, 12, 3, 18, 30, tzinfo=timezone.utc)
END = START + timedelta(minutes=15)
TRACE_NAMES: dict[str, str] = json.loads(
    (RECORDINGS / "jaeger" / "traces.json").read_text(encoding="utf-8")
)


def recorded_trace(name: str) -> TraceView:
    (trace,) = traces_from_otlp_json(Exchange.load(f"trace_{name}").json())
    return trace


def errcode_summary(code: int, count: int, apis: tuple[str, ...]) -> ErrcodeSummary:
    info = explain(code)
    return ErrcodeSummary(
        code, count, apis, info.meaning, info.category, info.retryable, info.remediation
    )


def series(api: str, steps: int = 30, fail_from: int = 12, fail_to: int = 20) -> ApiSeries:
    step = (END - START).total_seconds() / steps
    timestamps = tuple(START.timestamp() + step * (i + 1) for i in range(steps))
    calls = tuple(float(20 + round(6 * math.sin(i / 3))) for i in range(steps))
    errors = tuple(calls[i] * 0.8 if fail_from <= i < fail_to else 0.0 for i in range(steps))
    p99: tuple[Optional[float], ...] = tuple(
        None if i == 3 else 0.12 + 0.05 * math.cos(i / 4) for i in range(steps)
    )
    return ApiSeries(api, step, timestamps, calls, errors, p99)


def incident(apis: int = 3, traces: int = 5) -> Diagnosis:
    """An untrusted-IP incident (critical) with a token expiry (warning) and a slow API (info)."""
    names = ["message/send", "user/get", "user/list", *[f"api/{i:02d}" for i in range(3, apis)]]
    names = names[:apis]
    untrusted = Finding(
        cause="ip_not_trusted",
        severity="critical",
        summary="WeCom refuses calls from egress IP 203.0.113.7: it is not on the trusted list",
        started_at=START + timedelta(minutes=6),
        ended_at=START + timedelta(minutes=10),
        apis=tuple(names[:2]),
        errcodes=(60020,),
        failed_calls=148,
        calls=190,
        evidence=(
            'sum(increase(wecom_client_duration_seconds_count{wecom_errcode="60020"}[15m])) '
            "= 148 on message/send and user/get, none in the hour before",
            "errmsg of trace 437267e8...: not allow to access from your ip, from ip: 203.0.113.7",
        ),
        trace_ids=(TRACE_NAMES["ip_not_trusted"],),
        remediation="Add 203.0.113.7 to the app's trusted IPs (WeCom admin console > the app "
        "> Trusted IP), or route the calls through an egress that is on the list.",
        details={"egress_ip": "203.0.113.7", "title": "egress IP not trusted by WeCom"},
    )
    expired = Finding(
        cause="token_expired",
        severity="warning",
        summary="Access tokens expired on message/send while gettoken kept working",
        started_at=START + timedelta(minutes=4),
        ended_at=START + timedelta(minutes=4, seconds=20),
        apis=("message/send",),
        errcodes=(42001,),
        failed_calls=12,
        calls=40,
        evidence=("12 calls answered 42001, each followed by gettoken and a retry that worked",),
        trace_ids=(TRACE_NAMES["token_refresh"], "0" * 31 + "1", "0" * 31 + "2", "0" * 31 + "3"),
        remediation="Share one token cache between processes and refresh before expires_in.",
    )
    slow = Finding(
        cause="latency_degradation",
        severity="info",
        summary="user/list p99 rose to 0.8 s (baseline 0.2 s)",
        started_at=None,
        ended_at=None,
        apis=("user/list",),
        errcodes=(),
        failed_calls=0,
        evidence=(),
        trace_ids=(),
        remediation="Page through user/list or cache the directory.",
    )
    example_traces = tuple(
        recorded_trace(name)
        for name in (
            "ip_not_trusted",
            "token_refresh",
            "network_error",
            "partial_failure",
            "healthy",
        )[:traces]
    )
    return Diagnosis(
        service="wecom-recorded-app",
        window=Window(START, END),
        calls=600 + 10 * apis,
        failed_calls=160,
        findings=(untrusted, expired, slow),
        apis=tuple(
            ApiSummary(name, 200 - i, 80 if i < 2 else 0, 0.2 + i / 10)
            for i, name in enumerate(names)
        ),
        errcodes=(
            errcode_summary(60020, 148, tuple(names[:2])),
            errcode_summary(42001, 12, ("message/send",)),
        ),
        recipients_dropped=3,
        series=tuple(series(name, fail_from=12 if i < 2 else 99) for i, name in enumerate(names)),
        traces=example_traces,
        notes=("Jaeger answered; 1 of 2 example traces of token_expired was found.",),
        sources={"metrics": "http://127.0.0.1:9090", "traces": "http://127.0.0.1:16686"},
    )


def healthy() -> Diagnosis:
    return Diagnosis(
        service="wecom-recorded-app",
        window=Window(START, END),
        calls=420,
        failed_calls=0,
        findings=(),
        apis=(ApiSummary("message/send", 420, 0, 0.12),),
        series=(series("message/send", fail_from=99),),
    )


def empty() -> Diagnosis:
    return Diagnosis(
        service="nobody",
        window=Window(START, END),
        calls=0,
        failed_calls=0,
        findings=(),
        notes=("No WeCom calls of service 'nobody' in Prometheus between 18:30 and 18:45.",),
    )

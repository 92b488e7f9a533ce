"""Diagnosis of WeCom incidents from the traces and metrics the bundled pipeline stores.

Work in progress (issue 9): ``_model.py`` is the result contract shared by the engine and
the renderers.
"""

from __future__ import annotations

from opentelemetry.instrumentation.wecom.diagnosis._endpoints import (
    JAEGER_URL_ENV,
    PROMETHEUS_URL_ENV,
    jaeger_url,
    prometheus_url,
)
from opentelemetry.instrumentation.wecom.diagnosis._errors import BackendUnavailable
from opentelemetry.instrumentation.wecom.diagnosis._html import render_html, render_trace_html
from opentelemetry.instrumentation.wecom.diagnosis._jaeger import JaegerClient
from opentelemetry.instrumentation.wecom.diagnosis._model import (
    CAUSES,
    SEVERITIES,
    ApiSeries,
    ApiSummary,
    Diagnosis,
    ErrcodeSummary,
    Finding,
    Severity,
    SpanEvent,
    SpanView,
    TraceView,
    Window,
)
from opentelemetry.instrumentation.wecom.diagnosis._text import (
    render_text,
    render_trace_text,
    use_color,
)

__all__ = [
    "CAUSES",
    "JAEGER_URL_ENV",
    "PROMETHEUS_URL_ENV",
    "SEVERITIES",
    "ApiSeries",
    "ApiSummary",
    "BackendUnavailable",
    "Diagnosis",
    "ErrcodeSummary",
    "Finding",
    "JaegerClient",
    "Severity",
    "SpanEvent",
    "SpanView",
    "TraceView",
    "Window",
    "jaeger_url",
    "prometheus_url",
    "render_html",
    "render_text",
    "render_trace_html",
    "render_trace_text",
    "use_color",
]

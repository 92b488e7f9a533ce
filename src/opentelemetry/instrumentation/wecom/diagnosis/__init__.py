"""Diagnosis of WeCom incidents from the traces and metrics the bundled pipeline stores.

Work in progress (issue 9): ``_model.py`` is the result contract shared by the engine and
the renderers.
"""

from __future__ import annotations

from opentelemetry.instrumentation.wecom.diagnosis._errors import BackendUnavailable
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

__all__ = [
    "CAUSES",
    "SEVERITIES",
    "ApiSeries",
    "ApiSummary",
    "BackendUnavailable",
    "Diagnosis",
    "ErrcodeSummary",
    "Finding",
    "Severity",
    "SpanEvent",
    "SpanView",
    "TraceView",
    "Window",
]

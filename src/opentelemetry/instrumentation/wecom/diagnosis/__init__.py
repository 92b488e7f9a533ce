"""Diagnosis of WeCom incidents from the traces and metrics the bundled pipeline stores.

Usage::

    from opentelemetry.instrumentation.wecom.diagnosis import diagnose, render_text

    found = diagnose(service="my-app", since=timedelta(minutes=30))  # Prometheus + Jaeger
    print(render_text(found))  # most likely root cause first, with evidence and the fix

``diagnose()`` reads through a :class:`Source`: :class:`StoredSource` (Prometheus and Jaeger,
the default) or :class:`MemorySource` (the spans one process kept with a :class:`SpanKeeper`).
The causes, how each is detected and the ``--json`` document are in docs/diagnosis.md; the
JSON Schema ships as ``diagnosis.schema.json`` in this package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

from opentelemetry.instrumentation.wecom.diagnosis._endpoints import (
    JAEGER_URL_ENV,
    PROMETHEUS_URL_ENV,
    jaeger_url,
    prometheus_url,
)
from opentelemetry.instrumentation.wecom.diagnosis._engine import diagnose
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
from opentelemetry.instrumentation.wecom.diagnosis._source import (
    CallKey,
    CallSeries,
    CollectorHealth,
    DiscardSeries,
    Grid,
    Instance,
    LatencySeries,
    RecipientSeries,
    Source,
    TraceQuery,
)
from opentelemetry.instrumentation.wecom.diagnosis._stored import StoredSource
from opentelemetry.instrumentation.wecom.diagnosis._text import (
    render_text,
    render_trace_text,
    use_color,
)

if TYPE_CHECKING:
    from opentelemetry.instrumentation.wecom.diagnosis._memory import MemorySource, SpanKeeper

__all__ = [
    "CAUSES",
    "JAEGER_URL_ENV",
    "PROMETHEUS_URL_ENV",
    "SEVERITIES",
    "ApiSeries",
    "ApiSummary",
    "BackendUnavailable",
    "CallKey",
    "CallSeries",
    "CollectorHealth",
    "Diagnosis",
    "DiscardSeries",
    "ErrcodeSummary",
    "Finding",
    "Grid",
    "Instance",
    "JaegerClient",
    "LatencySeries",
    "MemorySource",
    "RecipientSeries",
    "Severity",
    "Source",
    "SpanEvent",
    "SpanKeeper",
    "SpanView",
    "StoredSource",
    "TraceQuery",
    "TraceView",
    "Window",
    "diagnose",
    "jaeger_url",
    "prometheus_url",
    "render_html",
    "render_text",
    "render_trace_html",
    "render_trace_text",
    "use_color",
]

# Names that need the OpenTelemetry SDK (the ``sdk`` extra), imported on first access.
_LAZY: Final = {"MemorySource": "._memory", "SpanKeeper": "._memory"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

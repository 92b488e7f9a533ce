"""Words and numbers shared by the terminal and HTML renderers: one way to say each thing."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

from opentelemetry.instrumentation.wecom._redaction import scrub
from opentelemetry.instrumentation.wecom.diagnosis._model import (
    AttributeValue,
    Diagnosis,
    Finding,
    Scalar,
    SpanView,
    TraceView,
)

# C0/C1 control characters (terminal escape sequences among them), except tab and newline.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Attributes a waterfall row shows first, in this order; the others follow sorted by name.
_LEADING_ATTRIBUTES = (
    "wecom.api",
    "wecom.errcode",
    "wecom.errmsg",
    "wecom.error.category",
    "wecom.error.retryable",
    "wecom.status",
    "error.type",
    "http.response.status_code",
    "url.full",
)
# Span-tree depth beyond which rows stop indenting (keeps names readable).
MAX_INDENT_DEPTH = 12


def clean(text: object) -> str:
    """Text safe to show: secrets scrubbed (defence in depth) and control characters removed."""
    return _CONTROL.sub("\ufffd", scrub(str(text)))


def one_line(text: object) -> str:
    return " ".join(clean(text).split())


def number(value: float) -> str:
    """``1,234`` for counts, ``12.5`` for fractional values."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"


def counted(value: float, noun: str, plural: Optional[str] = None) -> str:
    """``1 call``, ``1,234 calls``, ``2 processes``: a count and its noun, in agreement."""
    word = noun if value == 1 else (plural or f"{noun}s")
    return f"{value:,.0f} {word}"


def percent(part: float, whole: float) -> str:
    """``36 %``, ``6.4 %`` under ten: the one way a share is written, in evidence and reports."""
    if not whole or not part:
        return "0 %"
    share = 100 * part / whole
    return f"{share:.1f} %" if share < 10 else f"{share:.0f} %"


def duration_ns(nanoseconds: float) -> str:
    return duration_s(nanoseconds / 1e9)


def duration_s(seconds: float) -> str:
    """``850 µs``, ``12.3 ms``, ``3.21 s``, ``4 min 5 s``, ``2 h 3 min``."""
    if seconds < 0.001:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        milliseconds = seconds * 1000
        return f"{milliseconds:.1f} ms" if milliseconds < 100 else f"{milliseconds:.0f} ms"
    if seconds < 60:
        if seconds < 10:
            return f"{seconds:.2f} s"
        return f"{seconds:.0f} s" if float(seconds).is_integer() else f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


def timestamp(moment: datetime) -> str:
    """``2026-12-03 18:39:23 UTC``."""
    return utc(moment).strftime("%Y-%m-%d %H:%M:%S UTC")


def time_range(start: Optional[datetime], end: Optional[datetime]) -> str:
    """``2026-12-03 18:36:12 – 18:39:00 UTC (2 min 48 s)``; the date once when it is the same."""
    if start is None and end is None:
        return "unknown"
    if start is None or end is None:
        known = start or end
        assert known is not None
        return ("since " if start else "until ") + timestamp(known)
    first, last = utc(start), utc(end)
    tail = last.strftime("%H:%M:%S") if first.date() == last.date() else timestamp(last)[:-4]
    length = duration_s(max(0.0, (last - first).total_seconds()))
    return f"{first.strftime('%Y-%m-%d %H:%M:%S')} – {tail} UTC ({length})"


def verdict(diagnosis: Diagnosis, *, severity: bool = True) -> str:
    """The first line a reader sees: what is wrong, or that nothing is.

    ``severity=False`` leaves out the leading ``CRITICAL`` for a page that shows it as a badge.
    """
    if diagnosis.healthy:
        if not diagnosis.calls:
            return "No WeCom calls in this window: nothing to diagnose."
        return "Healthy: no critical or warning finding."
    top = diagnosis.findings[0]
    more = len(diagnosis.findings) - 1
    also = f" (+{more} more finding{'s' if more != 1 else ''})" if more else ""
    lead = f"{top.severity.upper()} " if severity else ""
    return f"{lead}{clean(top.cause)}: {one_line(top.summary)}{also}"


def scope(diagnosis: Diagnosis) -> str:
    """``app · 2026-12-03 18:30:00 – 18:45:00 UTC (15 min) · 630 calls, 160 failed (25 %)``."""
    who = one_line(diagnosis.service) if diagnosis.service else "all services"
    window = time_range(diagnosis.window.start, diagnosis.window.end)
    calls, failed = diagnosis.calls, diagnosis.failed_calls
    totals = f"{number(calls)} calls, {number(failed)} failed ({percent(failed, calls)})"
    return f"{who} · {window} · {totals}"


# Harm a finding does that no failed call shows, part of its impact line rather than of the
# details rows: (details key, what it counts).
_UNSEEN_HARM = (
    ("recipients_dropped", "message recipients dropped"),
    ("discarded_deliveries", "deliveries silently discarded (errcode 0)"),
)


def impact(finding: Finding) -> str:
    """``87 failed calls of 240 (36 %)``, then the harm no failed call shows (recipients WeCom
    dropped, deliveries it discarded silently): it counts in the ranking too."""
    text = f"{number(finding.failed_calls)} failed call{'s' if finding.failed_calls != 1 else ''}"
    if finding.calls:
        text += f" of {number(finding.calls)} ({percent(finding.failed_calls, finding.calls)})"
    for key, what in _UNSEEN_HARM:
        value = unseen_harm(finding, key)
        if value:
            text += f"; {number(value)} {what}"
    return text


def unseen_harm(finding: Finding, key: str) -> float:
    """The ``recipients_dropped`` or ``discarded_deliveries`` of a finding, 0 when it has none."""
    value = finding.details.get(key)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def details(finding: Finding) -> list[tuple[str, Scalar]]:
    """The cause-specific facts shown as rows: all but the ``title`` (shown in the heading) and
    the harm that is part of the impact line."""
    shown_elsewhere = {"title", *(key for key, _ in _UNSEEN_HARM)}
    return [
        (key, value) for key, value in sorted(finding.details.items()) if key not in shown_elsewhere
    ]


def errcode_label(code: int, meanings: Mapping[int, str]) -> str:
    meaning = meanings.get(code)
    return f"{code} ({one_line(meaning)})" if meaning else str(code)


def attribute_text(value: AttributeValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(attribute_text(item) for item in value) + "]"
    return clean(value)


def ordered_attributes(attributes: Mapping[str, AttributeValue]) -> list[tuple[str, str]]:
    """The span's attributes as text, the WeCom facts first."""
    leading = [key for key in _LEADING_ATTRIBUTES if key in attributes]
    rest = sorted(key for key in attributes if key not in _LEADING_ATTRIBUTES)
    return [(clean(key), attribute_text(attributes[key])) for key in (*leading, *rest)]


@dataclass(frozen=True)
class Row:
    """One span of a waterfall: its depth in the span tree and whether its parent is missing."""

    span: SpanView
    depth: int
    orphan: bool


def waterfall_rows(trace: TraceView) -> list[Row]:
    """The spans depth first (children by start time), roots and orphans at depth 0."""
    ids = {span.span_id for span in trace.spans}
    children: dict[str, list[SpanView]] = {}
    roots: list[SpanView] = []
    for span in trace.spans:
        if span.parent_span_id and span.parent_span_id in ids:
            children.setdefault(span.parent_span_id, []).append(span)
        else:
            roots.append(span)
    rows: list[Row] = []
    seen: set[str] = set()

    def visit(span: SpanView, depth: int) -> None:
        if span.span_id in seen:  # a malformed trace with a cycle
            return
        seen.add(span.span_id)
        orphan = depth == 0 and bool(span.parent_span_id)
        rows.append(Row(span, min(depth, MAX_INDENT_DEPTH), orphan))
        for child in sorted(children.get(span.span_id, ()), key=_start_key):
            visit(child, depth + 1)

    for root in sorted(roots, key=_start_key):
        visit(root, 0)
    for span in trace.spans:  # spans only reachable through a cycle
        if span.span_id not in seen:
            visit(span, 0)
    return rows


def _start_key(span: SpanView) -> tuple[int, str]:
    return (span.start_ns, span.span_id)


def span_outcome(span: SpanView) -> str:
    """``errcode 42001``, ``ReadError``, ``error`` or ``""`` for a span that went well."""
    errcode = span.attributes.get("wecom.errcode")
    if isinstance(errcode, int) and not isinstance(errcode, bool) and errcode != 0:
        return f"errcode {errcode}"
    if span.status == "error":
        error_type = span.attributes.get("error.type")
        return clean(error_type) if error_type else "error"
    if span.attributes.get("wecom.message.partial_failure") is True:
        return "partial failure"
    return ""


def trace_services(trace: TraceView) -> list[str]:
    """``billing 3.1.0 on host-a`` for each process that made spans of the trace."""
    seen: dict[str, None] = {}
    for span in trace.spans:
        parts = [clean(span.service or "unknown service")]
        version = span.resource.get("service.version")
        if version:
            parts.append(clean(version))
        host = span.resource.get("host.name")
        if host:
            parts.append(f"on {clean(host)}")
        seen[" ".join(parts)] = None
    return list(seen)


def exception_summary(attributes: Mapping[str, AttributeValue]) -> Optional[str]:
    kind = attributes.get("exception.type")
    message = attributes.get("exception.message")
    if kind is None and message is None:
        return None
    return one_line(": ".join(str(part) for part in (kind, message) if part is not None))


def joined(items: Iterable[object], empty: str = "-") -> str:
    texts = [one_line(item) for item in items]
    return ", ".join(texts) if texts else empty

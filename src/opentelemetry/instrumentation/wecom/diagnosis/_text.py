"""The terminal form of a diagnosis and of one trace (a waterfall).

Plain text by default; ``color=True`` adds ANSI colours (the CLI decides with :func:`use_color`).
Every piece of text from the data is cleaned first (secrets scrubbed, control characters
removed), so neither a hostile errmsg nor a stray escape sequence reaches the terminal.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Mapping
from typing import TextIO

from opentelemetry.instrumentation.wecom.diagnosis._format import (
    Row,
    clean,
    details,
    duration_ns,
    errcode_label,
    exception_summary,
    impact,
    joined,
    number,
    one_line,
    ordered_attributes,
    percent,
    scope,
    span_outcome,
    time_range,
    trace_services,
    verdict,
    waterfall_rows,
)
from opentelemetry.instrumentation.wecom.diagnosis._model import (
    Diagnosis,
    Finding,
    Severity,
    TraceView,
)

__all__ = ["render_text", "render_trace_text", "use_color"]

WIDTH = 100
_LABEL = 11  # width of the "evidence  " column of a finding
# Example trace ids a finding lists; the JSON and HTML forms have them all.
_TRACE_IDS_SHOWN = 3
# APIs the table lists (most failed calls first); the JSON and HTML forms have them all.
_APIS_SHOWN = 20
_BAR = 40
_NAME = 44

_RESET = "\x1b[0m"
_STYLES = {
    "bold": "\x1b[1m",
    "dim": "\x1b[2m",
    "critical": "\x1b[1;31m",
    "warning": "\x1b[1;33m",
    "info": "\x1b[36m",
    "healthy": "\x1b[1;32m",
    "error": "\x1b[31m",
}


def use_color(stream: TextIO) -> bool:
    """Colour when ``stream`` is a terminal, unless ``NO_COLOR`` is set; ``FORCE_COLOR`` forces."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"


class _Paint:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, style: str, text: str) -> str:
        return f"{_STYLES[style]}{text}{_RESET}" if self.enabled and text else text


def render_text(diagnosis: Diagnosis, *, color: bool = False) -> str:
    """The diagnosis for a terminal: the verdict, then each finding (most likely cause first)
    with severity, window, APIs, errcodes, impact, evidence, example traces and the fix; then
    the APIs, and notes on what the diagnosis could not see."""
    paint = _Paint(color)
    top: str = "healthy" if diagnosis.healthy else diagnosis.findings[0].severity
    lines = [
        paint(top, verdict(diagnosis)),
        scope(diagnosis),
    ]
    meanings = {code.errcode: code.meaning for code in diagnosis.errcodes}
    for index, finding in enumerate(diagnosis.findings, 1):
        lines += ["", *_finding(index, finding, meanings, paint)]
    if diagnosis.apis:
        lines += ["", *_api_table(diagnosis, paint)]
    if diagnosis.notes:
        lines += ["", paint("bold", "Notes")]
        for note in diagnosis.notes:
            lines += _wrapped("", f"- {one_line(note)}", indent=4, first_indent=2)
    if diagnosis.sources:
        where = ", ".join(f"{clean(k)} from {clean(v)}" for k, v in diagnosis.sources.items())
        lines += ["", paint("dim", f"Data: {where}.")]
    return "\n".join(lines) + "\n"


def _finding(index: int, finding: Finding, meanings: Mapping[int, str], paint: _Paint) -> list[str]:
    severity: Severity = finding.severity
    badge, cause = f"[{severity}]", clean(finding.cause)
    title = finding.details.get("title")
    named = f"{cause} ({one_line(title)})" if title else cause
    head = f"{index}. {badge} {named}  {one_line(finding.summary)}"
    lines = _wrapped("", head, indent=3, first_indent=0)
    lines[0] = lines[0].replace(badge, paint(severity, badge), 1)
    lines[0] = lines[0].replace(f" {cause}", " " + paint("bold", cause), 1)
    lines += _field("window", time_range(finding.started_at, finding.ended_at))
    lines += _field("APIs", joined(finding.apis))
    if finding.errcodes:
        lines += _field("errcodes", ", ".join(errcode_label(c, meanings) for c in finding.errcodes))
    lines += _field("impact", impact(finding))
    for position, line in enumerate(finding.evidence):
        lines += _field("evidence" if position == 0 else "", f"- {one_line(line)}")
    for position, (key, value) in enumerate(details(finding)):
        lines += _field("details" if position == 0 else "", f"{clean(key)}: {one_line(value)}")
    if finding.trace_ids:
        shown = ", ".join(clean(t) for t in finding.trace_ids[:_TRACE_IDS_SHOWN])
        hidden = len(finding.trace_ids) - _TRACE_IDS_SHOWN
        more = f" (+{hidden} more)" if hidden > 0 else ""
        lines += _field("traces", f"{shown}{more}  (see one: wecom-otel trace ID)")
    lines += _field("fix", one_line(finding.remediation), style=paint("bold", "fix"))
    return lines


def _field(label: str, text: str, style: str = "") -> list[str]:
    shown_label = style or label
    wrapped = _wrapped("", text, indent=3 + _LABEL)
    if not wrapped:
        return []
    padding = " " * (_LABEL - len(label))
    wrapped[0] = "   " + shown_label + padding + wrapped[0].lstrip()
    return wrapped


def _wrapped(label: str, text: str, *, indent: int, first_indent: int = -1) -> list[str]:
    first = " " * (indent if first_indent < 0 else first_indent)
    return textwrap.wrap(
        label + text,
        WIDTH,
        initial_indent=first,
        subsequent_indent=" " * indent,
        break_on_hyphens=False,
        break_long_words=True,
    )


def _api_table(diagnosis: Diagnosis, paint: _Paint) -> list[str]:
    apis = sorted(diagnosis.apis, key=lambda api: (-api.failed_calls, -api.calls, api.api))
    header = f"  {'API':<30}{'calls':>9}{'failed':>9}{'error %':>9}{'p99':>11}"
    lines = [paint("bold", "APIs"), paint("dim", header)]
    for api in apis[:_APIS_SHOWN]:
        p99 = duration_ns(api.p99_seconds * 1e9) if api.p99_seconds is not None else "-"
        row = (
            f"  {one_line(api.api)[:29]:<30}{number(api.calls):>9}{number(api.failed_calls):>9}"
            f"{percent(api.failed_calls, api.calls):>9}{p99:>11}"
        )
        lines.append(paint("error", row) if api.failed_calls else row)
    if len(apis) > _APIS_SHOWN:
        lines.append(f"  ... and {len(apis) - _APIS_SHOWN} more APIs (--json or --html)")
    return lines


def render_trace_text(trace: TraceView, *, color: bool = False) -> str:
    """One trace as a waterfall: a row per span (indented under its parent) with its duration,
    outcome and a bar on the trace's time line; then each span's attributes and events."""
    paint = _Paint(color)
    start, total = trace.start_ns, max(1, trace.end_ns - trace.start_ns)
    rows = waterfall_rows(trace)
    services = "; ".join(trace_services(trace)) or "no spans"
    lines = [
        paint("bold", f"Trace {clean(trace.trace_id)}"),
        f"{len(trace.spans)} span{'s' if len(trace.spans) != 1 else ''}, "
        f"{duration_ns(total if trace.spans else 0)}, {services}",
        "",
        paint("dim", _waterfall_header(total if trace.spans else 0)),
    ]
    for row in rows:
        lines.append(_waterfall_line(row, start, total, paint))
    lines += ["", paint("bold", "Spans")]
    for index, row in enumerate(rows, 1):
        lines += _span_details(index, row, paint)
    return "\n".join(lines) + "\n"


def _waterfall_header(total: int) -> str:
    end = duration_ns(total)
    scale = "0" + end.rjust(_BAR - 1)
    return f"{'span':<{_NAME}} {'duration':>9}  {'outcome':<16} {scale}"


def _waterfall_line(row: Row, start: int, total: int, paint: _Paint) -> str:
    span = row.span
    name = "  " * row.depth + ("↳ " if row.orphan else "") + one_line(span.name)
    if len(name) > _NAME:
        name = name[: _NAME - 1] + "…"
    offset = (span.start_ns - start) / total * _BAR
    width = span.duration_ns / total * _BAR
    left = min(_BAR - 1, int(offset))
    cells = max(1, round(offset + width) - left)
    bar = " " * left + "█" * min(cells, _BAR - left)
    outcome = span_outcome(span)
    text = f"{name:<{_NAME}} {duration_ns(span.duration_ns):>9}  {outcome[:15]:<16}|{bar:<{_BAR}}|"
    return paint("error", text) if outcome and span.status == "error" else text


def _span_details(index: int, row: Row, paint: _Paint) -> list[str]:
    span = row.span
    status = span.status + (f": {one_line(span.status_message)}" if span.status_message else "")
    head = f"{index}. {one_line(span.name)}  ({clean(span.kind)}, {status})"
    style = "error" if span.status == "error" else "bold"
    lines = [paint(style, line) for line in _wrapped("", head, indent=5, first_indent=2)]
    if row.orphan:
        lines.append(f"     parent span {clean(span.parent_span_id)} is not in this trace")
    for key, value in ordered_attributes(span.attributes):
        lines += _wrapped("", f"{key} = {value}", indent=7, first_indent=5)
    for event in span.events:
        offset = duration_ns(max(0, event.time_ns - span.start_ns))
        summary = exception_summary(event.attributes)
        text = f"event {one_line(event.name)} at +{offset}"
        if summary:
            text += f": {summary}"
        else:
            text += "".join(
                f"; {key}={value}" for key, value in ordered_attributes(event.attributes)
            )
        lines += _wrapped("", text, indent=7, first_indent=5)
    return lines

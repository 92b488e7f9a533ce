"""The HTML report of a diagnosis, and of one trace: one self-contained file.

No script, no font, no image, no stylesheet is fetched: the CSS is inline, the charts are inline
SVG made here (``_charts``), and a Content-Security-Policy of ``default-src 'none'`` makes the
browser refuse anything else. Every text from the data is HTML-escaped after the secret
scrubber ran over it (``_format.clean``). Native ``<details>`` elements fold the span attributes,
so the page needs no JavaScript and reads well with a keyboard and a screen reader.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from html import escape
from typing import Optional

from opentelemetry.instrumentation.wecom.diagnosis import _charts
from opentelemetry.instrumentation.wecom.diagnosis._format import (
    Row,
    attribute_text,
    clean,
    details,
    duration_ns,
    duration_s,
    errcode_label,
    exception_summary,
    impact,
    number,
    one_line,
    ordered_attributes,
    percent,
    scope,
    span_outcome,
    time_range,
    trace_services,
    unseen_harm,
    verdict,
    waterfall_rows,
)
from opentelemetry.instrumentation.wecom.diagnosis._model import (
    ApiSeries,
    AttributeValue,
    Diagnosis,
    Finding,
    SpanView,
    TraceView,
)
from opentelemetry.instrumentation.wecom.version import __version__

__all__ = ["render_html", "render_trace_html"]

# Spans drawn per trace; a larger trace says how many were left out.
MAX_SPANS = 1000
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'"

_CSS = """
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;
--panel:#f6f8fa;--accent:#0969da;--crit:#b42318;--crit-bg:#fde8e7;--warn:#8a5300;
--warn-bg:#fff4d6;--info:#0b5cad;--info-bg:#e3f0ff;--ok:#1a7f37;--ok-bg:#dcf5e3;
--bar:#0969da;--bar-err:#cf222e;--band:rgba(207,34,46,.14)}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;
--line:#30363d;--panel:#161b22;--accent:#4493f8;--crit:#ff7b72;--crit-bg:#3d1214;
--warn:#e3b341;--warn-bg:#3b2a05;--info:#79c0ff;--info-bg:#0c2d4d;--ok:#56d364;
--ok-bg:#0f2e17;--bar:#4493f8;--bar-err:#f85149;--band:rgba(248,81,73,.2)}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,
"Segoe UI",Roboto,"Noto Sans","PingFang SC","Microsoft YaHei",sans-serif}
main,header.verdict>div,nav,footer{max-width:1180px;margin:0 auto;padding:0 20px}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
a{color:var(--accent)}
header.verdict{padding:22px 0 16px;border-bottom:1px solid var(--line)}
header.verdict h1{font-size:1.45rem;margin:.2em 0;line-height:1.3}
.scope{color:var(--muted);margin:0}
.sev{display:inline-block;font-weight:700;font-size:.75rem;letter-spacing:.04em;
text-transform:uppercase;padding:2px 8px;border-radius:10px;border:1px solid currentColor}
.critical{--sev:var(--crit);--sev-bg:var(--crit-bg)}
.warning{--sev:var(--warn);--sev-bg:var(--warn-bg)}
.info{--sev:var(--info);--sev-bg:var(--info-bg)}
.healthy{--sev:var(--ok);--sev-bg:var(--ok-bg)}
header.verdict{background:var(--sev-bg)}
.sev,header.verdict h1{color:var(--sev)}
nav ul{list-style:none;display:flex;flex-wrap:wrap;gap:4px 18px;padding:10px 0;margin:0}
section{margin:28px 0}
h2{font-size:1.2rem;border-bottom:1px solid var(--line);padding-bottom:4px}
.stats{display:flex;flex-wrap:wrap;gap:12px;padding:0;margin:0;list-style:none}
.stats li{background:var(--panel);border:1px solid var(--line);border-radius:8px;
padding:8px 14px;min-width:140px}
.stats b{display:block;font-size:1.3rem}
.stats span{color:var(--muted);font-size:.85rem}
article.finding{border:1px solid var(--line);border-left:6px solid var(--sev);
border-radius:8px;padding:4px 18px 12px;margin:14px 0;background:var(--bg)}
article.finding h3{margin:.6em 0 .2em;font-size:1.1rem}
article.finding dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0}
article.finding dt{color:var(--muted)}
article.finding dd{margin:0}
h4{margin:.8em 0 .2em;font-size:.95rem}
.fix{background:var(--panel);border-radius:6px;padding:6px 12px;margin-top:10px}
.fix p{margin:.2em 0}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:5px 10px;border-bottom:1px solid var(--line);vertical-align:top}
thead th{background:var(--panel);font-size:.85rem}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.charts td{padding:4px 6px}
.chart{display:block;max-width:100%;height:auto}
.chart .axis{stroke:var(--line);stroke-width:1}
.chart .line{fill:none;stroke:var(--accent);stroke-width:1.6}
.chart.p99 .line{stroke:var(--warn)}
.chart .dot{fill:var(--accent)}
.chart .bar{fill:var(--bar-err)}
.chart .band{fill:var(--band)}
.chart text{fill:var(--muted);font-size:10px;font-family:system-ui,sans-serif}
.legend{color:var(--muted);font-size:.85rem}
.legend i{display:inline-block;width:14px;height:10px;background:var(--band);
vertical-align:middle;margin-right:4px}
article.trace{border:1px solid var(--line);border-radius:8px;padding:6px 16px 12px;margin:16px 0}
article.trace h3{font-size:1rem;margin:.5em 0 0}
.meta{color:var(--muted);margin:.2em 0;font-size:.9rem}
.waterfall{margin-top:10px}
.wf-row{display:grid;grid-template-columns:minmax(180px,34%) 78px 120px 1fr;
gap:8px;align-items:center}
.waterfall .scale{color:var(--muted);font-size:.8rem}
.waterfall .scale .ticks{display:flex;justify-content:space-between}
.waterfall>details{border-top:1px solid var(--line)}
.waterfall>details>summary{list-style:none;cursor:pointer;padding:3px 0}
.waterfall>details>summary::-webkit-details-marker{display:none}
summary{cursor:pointer}
summary:focus-visible{outline:2px solid var(--accent);outline-offset:1px}
.span-name{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.span-name::before{content:"\\25B8";color:var(--muted);display:inline-block;width:1em}
details[open]>summary .span-name::before{content:"\\25BE"}
.dur{text-align:right;font-variant-numeric:tabular-nums}
.outcome{color:var(--bar-err);font-size:.85rem;white-space:nowrap;overflow:hidden;
text-overflow:ellipsis}
.track{position:relative;height:14px;background:var(--panel);border-radius:3px}
.track .bar{position:absolute;top:2px;bottom:2px;min-width:2px;background:var(--bar);
border-radius:2px}
.status-error .track .bar{background:var(--bar-err)}
.track .event{position:absolute;top:0;bottom:0;width:2px;background:var(--fg)}
.span-body{padding:4px 0 10px 1.2em}
.span-body table{font-size:.85rem;margin-top:4px}
.span-body th{font-weight:500;color:var(--muted);width:30%;word-break:break-all}
.span-body td{word-break:break-all}
pre{white-space:pre-wrap;word-break:break-all;background:var(--panel);padding:8px;
border-radius:6px;max-height:22em;overflow:auto}
footer{color:var(--muted);font-size:.85rem;padding:18px 20px 30px;
border-top:1px solid var(--line);margin-top:30px}
@media (max-width:720px){.wf-row{grid-template-columns:1fr 70px;}
.wf-row .outcome{display:none}.wf-row .track{grid-column:1/-1}}
"""


def render_html(diagnosis: Diagnosis, *, generated_at: Optional[datetime] = None) -> str:
    """The diagnosis as one self-contained HTML page: the verdict, each finding, charts of
    calls, errors and p99 per API, the errcode and API tables, a waterfall of each example
    trace with its attributes and events, and the notes."""
    tone = "healthy" if diagnosis.healthy else diagnosis.findings[0].severity
    cited = _citations(diagnosis.findings)
    sections = [
        _summary(diagnosis),
        _findings(diagnosis),
        _charts_section(diagnosis),
        _errcodes(diagnosis),
        _apis(diagnosis),
        _traces_section(diagnosis.traces, cited),
        _notes(diagnosis),
    ]
    contents = [
        ("findings", "Findings"),
        ("charts", "Charts"),
        ("errcodes", "Errcodes"),
        ("apis", "APIs"),
        ("traces", "Traces"),
        ("notes", "Notes"),
    ]
    present = [
        (anchor, title) for anchor, title in contents if f'id="{anchor}"' in "".join(sections)
    ]
    nav = "".join(f'<li><a href="#{a}">{t}</a></li>' for a, t in present)
    header = (
        f'<header class="verdict {tone}"><div><span class="sev">{escape(tone)}</span>'
        f"<h1>{escape(verdict(diagnosis, severity=False))}</h1>"
        f'<p class="scope">{escape(scope(diagnosis))}</p></div></header>'
        f'<nav aria-label="Contents"><ul>{nav}</ul></nav>'
    )
    sources = "; ".join(f"{clean(k)}: {clean(v)}" for k, v in diagnosis.sources.items())
    footer = _footer(generated_at, f"Data from {sources}." if sources else "")
    return _page(f"WeCom diagnosis: {verdict(diagnosis)}", header, "".join(sections), footer)


def render_trace_html(trace: TraceView, *, generated_at: Optional[datetime] = None) -> str:
    """One trace as a self-contained HTML page: its waterfall with every span's attributes and
    events (spans that failed are unfolded)."""
    tone = "critical" if any(_failed(span) for span in trace.spans) else "healthy"
    title = f"Trace {clean(trace.trace_id)}"
    header = (
        f'<header class="verdict {tone}"><div><h1>{escape(title)}</h1>'
        f'<p class="scope">{escape(_trace_meta(trace))}</p></div></header>'
    )
    body = f'<section id="traces">{_trace(trace, {}, heading=False, all_failures=True)}</section>'
    return _page(title, header, body, _footer(generated_at, ""))


def _page(title: str, header: str, body: str, footer: str) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        f'<meta name="generator" content="wecom-otel {escape(__version__)}">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head>\n<body>"
        f"{header}<main>{body}</main>{footer}</body></html>\n"
    )


def _footer(generated_at: Optional[datetime], extra: str) -> str:
    moment = (generated_at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    when = moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        f"<footer>Generated by wecom-otel {escape(__version__)} at {when}. {escape(extra)}</footer>"
    )


def _summary(diagnosis: Diagnosis) -> str:
    affected = {api for finding in diagnosis.findings for api in finding.apis}
    stats = [
        (number(diagnosis.calls), "WeCom calls"),
        (number(diagnosis.failed_calls), "failed calls"),
        (percent(diagnosis.failed_calls, diagnosis.calls), "of calls failed"),
        (number(len(affected)), f"API{'s' if len(affected) != 1 else ''} in findings"),
    ]
    if diagnosis.recipients_dropped:
        stats.append((number(diagnosis.recipients_dropped), "message recipients dropped"))
    discarded = sum(unseen_harm(f, "discarded_deliveries") for f in diagnosis.findings)
    if discarded:
        stats.append((number(discarded), "deliveries silently discarded"))
    items = "".join(f"<li><b>{escape(v)}</b><span>{escape(k)}</span></li>" for v, k in stats)
    return f'<section id="summary" aria-label="Summary"><ul class="stats">{items}</ul></section>'


def _findings(diagnosis: Diagnosis) -> str:
    if not diagnosis.findings:
        text = (
            "No finding: nothing anomalous in this window."
            if diagnosis.calls
            else "No WeCom calls in this window."
        )
        return f'<section id="findings"><h2>Findings</h2><p>{escape(text)}</p></section>'
    meanings = {code.errcode: code.meaning for code in diagnosis.errcodes}
    included = {trace.trace_id for trace in diagnosis.traces}
    articles = "".join(
        _finding(index, finding, meanings, included)
        for index, finding in enumerate(diagnosis.findings, 1)
    )
    return (
        '<section id="findings"><h2>Findings <span class="meta">(most likely root cause '
        f"first)</span></h2>{articles}</section>"
    )


def _finding(index: int, finding: Finding, meanings: Mapping[int, str], traces: set[str]) -> str:
    rows = [
        ("Window", time_range(finding.started_at, finding.ended_at)),
        ("APIs", ", ".join(one_line(api) for api in finding.apis) or "-"),
    ]
    if finding.errcodes:
        rows.append(("Errcodes", ", ".join(errcode_label(c, meanings) for c in finding.errcodes)))
    rows.append(("Impact", impact(finding)))
    rows += [(clean(key), one_line(value)) for key, value in details(finding)]
    fields = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    parts = [
        f'<article class="finding {finding.severity}" id="finding-{index}"'
        f' aria-labelledby="finding-{index}-title">',
        f'<h3 id="finding-{index}-title"><span class="sev">{escape(finding.severity)}</span> '
        f"{index}. <code>{escape(clean(finding.cause))}</code>{escape(_title(finding))}</h3>",
        f"<p>{escape(one_line(finding.summary))}</p><dl>{fields}</dl>",
    ]
    if finding.evidence:
        items = "".join(f"<li>{escape(one_line(line))}</li>" for line in finding.evidence)
        parts.append(f"<h4>Evidence</h4><ul>{items}</ul>")
    if finding.trace_ids:
        links = []
        for trace_id in finding.trace_ids:
            code = f"<code>{escape(clean(trace_id))}</code>"
            if trace_id in traces:
                links.append(f'<li><a href="#trace-{escape(trace_id)}">{code}</a></li>')
            else:
                links.append(
                    f'<li>{code} <span class="meta">(not in this report: '
                    f"<code>wecom-otel trace {escape(clean(trace_id))}</code>)</span></li>"
                )
        parts.append(f"<h4>Example traces</h4><ul>{''.join(links)}</ul>")
    parts.append(
        f'<div class="fix"><h4>Fix</h4><p>{escape(one_line(finding.remediation))}</p></div>'
        "</article>"
    )
    return "".join(parts)


def _title(finding: Finding) -> str:
    title = finding.details.get("title")
    return f" — {one_line(title)}" if title else ""


def _charts_section(diagnosis: Diagnosis) -> str:
    if not diagnosis.series:
        return ""
    start = diagnosis.window.start.timestamp()
    end = diagnosis.window.end.timestamp()
    failed = {api.api: api.failed_calls for api in diagnosis.apis}
    ordered = sorted(diagnosis.series, key=lambda s: (-failed.get(s.api, 0), s.api))
    rows = []
    for series in ordered:
        bands = _bands(diagnosis.findings, series.api, end)
        cells = "".join(
            f"<td>{_charts.render(chart, start, end, bands)}</td>" for chart in _charts_of(series)
        )
        rows.append(
            f'<tr><th scope="row"><code>{escape(one_line(series.api))}</code></th>{cells}</tr>'
        )
    step = duration_s(ordered[0].step_seconds) if ordered else ""
    return (
        '<section id="charts"><h2>Calls, errors and p99 per API</h2>'
        f'<p class="legend">Per step of {escape(step)}; <i></i>a shaded band is the window of '
        "a finding on that API. Hover a chart for its description.</p>"
        '<div class="scroll"><table class="charts"><thead><tr><th scope="col">API</th>'
        '<th scope="col">Calls per step</th><th scope="col">Failed calls per step</th>'
        '<th scope="col">p99 latency</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div></section>"
    )


def _charts_of(series: ApiSeries) -> list[_charts.Chart]:
    api = one_line(series.api)
    return [
        _charts.Chart(
            f"{api} calls per step", series.timestamps, series.calls, "line", "calls", number
        ),
        _charts.Chart(
            f"{api} failed calls per step",
            series.timestamps,
            series.errors,
            "bars",
            "errors",
            number,
        ),
        _charts.Chart(
            f"{api} p99 latency", series.timestamps, series.p99_seconds, "line", "p99", duration_s
        ),
    ]


def _bands(findings: Sequence[Finding], api: str, window_end: float) -> list[_charts.Band]:
    """The window of each finding on ``api``; one that may be going on reaches the window's end."""
    bands = []
    for index, finding in enumerate(findings, 1):
        if api in finding.apis and finding.started_at:
            end = finding.ended_at.timestamp() if finding.ended_at else window_end
            bands.append(
                _charts.Band(
                    finding.started_at.timestamp(), end, f"finding {index}: {clean(finding.cause)}"
                )
            )
    return bands


def _errcodes(diagnosis: Diagnosis) -> str:
    if not diagnosis.errcodes:
        return ""
    rows = "".join(
        "<tr>"
        f'<td class="n"><code>{code.errcode}</code></td><td class="n">{number(code.count)}</td>'
        f"<td>{escape(', '.join(one_line(a) for a in code.apis))}</td>"
        f"<td>{escape(one_line(code.meaning))}</td><td>{escape(one_line(code.category))}</td>"
        f"<td>{'yes' if code.retryable else 'no'}</td>"
        f"<td>{escape(one_line(code.remediation))}</td></tr>"
        for code in sorted(diagnosis.errcodes, key=lambda c: (-c.count, c.errcode))
    )
    return (
        '<section id="errcodes"><h2>Errcodes</h2><div class="scroll"><table><thead><tr>'
        '<th scope="col">Errcode</th><th scope="col">Calls</th><th scope="col">APIs</th>'
        '<th scope="col">Meaning</th><th scope="col">Category</th>'
        '<th scope="col">Retry helps</th><th scope="col">Remediation</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div></section>"
    )


def _apis(diagnosis: Diagnosis) -> str:
    if not diagnosis.apis:
        return ""
    apis = sorted(diagnosis.apis, key=lambda a: (-a.failed_calls, -a.calls, a.api))
    rows = "".join(
        f"<tr><td><code>{escape(one_line(api.api))}</code></td>"
        f'<td class="n">{number(api.calls)}</td><td class="n">{number(api.failed_calls)}</td>'
        f'<td class="n">{percent(api.failed_calls, api.calls)}</td>'
        f'<td class="n">{duration_s(api.p99_seconds) if api.p99_seconds is not None else "-"}'
        "</td></tr>"
        for api in apis
    )
    return (
        '<section id="apis"><h2>APIs</h2><div class="scroll"><table><thead><tr>'
        '<th scope="col">API</th><th scope="col">Calls</th><th scope="col">Failed</th>'
        '<th scope="col">Error ratio</th><th scope="col">p99</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div></section>"
    )


def _citations(findings: Sequence[Finding]) -> dict[str, list[str]]:
    cited: dict[str, list[str]] = {}
    for index, finding in enumerate(findings, 1):
        for trace_id in finding.trace_ids:
            cited.setdefault(trace_id, []).append(f"finding {index} ({clean(finding.cause)})")
    return cited


def _traces_section(traces: Sequence[TraceView], cited: Mapping[str, list[str]]) -> str:
    if not traces:
        return ""
    body = "".join(_trace(trace, cited) for trace in traces)
    return (
        '<section id="traces"><h2>Example traces</h2><p class="meta">Each span is a row on the '
        "trace's time line; open one for its attributes and events (the first failed span is open)."
        f"</p>{body}</section>"
    )


def _trace(
    trace: TraceView,
    cited: Mapping[str, list[str]],
    *,
    heading: bool = True,
    all_failures: bool = False,
) -> str:
    """A trace's waterfall; failed spans are unfolded (only the first unless ``all_failures``)."""
    rows = waterfall_rows(trace)
    start, total = trace.start_ns, max(1, trace.end_ns - trace.start_ns)
    parts = [f'<article class="trace" id="trace-{escape(clean(trace.trace_id))}">']
    if heading:
        parts.append(
            f"<h3>Trace <code>{escape(clean(trace.trace_id))}</code></h3>"
            f'<p class="meta">{escape(_trace_meta(trace))}</p>'
        )
    if trace.trace_id in cited:
        parts.append(f'<p class="meta">Evidence for {escape(", ".join(cited[trace.trace_id]))}</p>')
    half = duration_ns(total / 2)
    parts.append(
        '<div class="waterfall"><div class="wf-row scale" aria-hidden="true"><span>span</span>'
        '<span class="dur">duration</span><span>outcome</span><span class="ticks">'
        f"<span>0</span><span>{escape(half)}</span><span>{escape(duration_ns(total))}</span>"
        "</span></div>"
    )
    first_failure = next((row.span.span_id for row in rows if _failed(row.span)), None)
    parts += [
        _span_row(row, start, total, opened=all_failures or row.span.span_id == first_failure)
        for row in rows[:MAX_SPANS]
    ]
    parts.append("</div>")
    if len(rows) > MAX_SPANS:
        parts.append(f'<p class="meta">{len(rows) - MAX_SPANS} more spans not drawn.</p>')
    parts.append("</article>")
    return "".join(parts)


def _trace_meta(trace: TraceView) -> str:
    count = len(trace.spans)
    length = duration_ns(trace.end_ns - trace.start_ns) if trace.spans else "0"
    services = "; ".join(trace_services(trace)) or "no spans"
    return f"{count} span{'s' if count != 1 else ''} · {length} · {services}"


def _span_row(row: Row, start: int, total: int, *, opened: bool) -> str:
    span = row.span
    left = (span.start_ns - start) / total * 100
    width = span.duration_ns / total * 100
    marks = "".join(
        f'<span class="event" style="left:{_clamp((e.time_ns - start) / total * 100):.2f}%"'
        f' title="{escape(one_line(e.name))}"></span>'
        for e in span.events
    )
    outcome = span_outcome(span)
    status_class = "status-error" if _failed(span) else "status-ok"
    name = escape(one_line(span.name))
    orphan = " (parent not in trace)" if row.orphan else ""
    indent = f"padding-left:{row.depth * 1.1:.1f}em"
    summary = (
        f'<summary class="wf-row"><span class="span-name" style="{indent}"'
        f' title="{name}">{name}{escape(orphan)}</span>'
        f'<span class="dur">{escape(duration_ns(span.duration_ns))}</span>'
        f'<span class="outcome">{escape(outcome)}</span>'
        f'<span class="track" aria-hidden="true"><span class="bar" style="left:{_clamp(left):.2f}%;'
        f'width:{_clamp(width, 100 - _clamp(left)):.2f}%"></span>{marks}</span></summary>'
    )
    unfolded = " open" if opened and _failed(span) else ""
    return f'<details class="{status_class}"{unfolded}>{summary}{_span_body(span)}</details>'


def _span_body(span: SpanView) -> str:
    status = span.status + (f": {one_line(span.status_message)}" if span.status_message else "")
    facts = [
        ("span id", span.span_id),
        ("parent span id", span.parent_span_id or "(root)"),
        ("kind", span.kind),
        ("status", status),
        ("service", "; ".join(f"{k}={attribute_text(v)}" for k, v in _resource(span))),
    ]
    rows = [(clean(k), clean(v)) for k, v in facts] + ordered_attributes(span.attributes)
    table = _table(rows)
    events = "".join(_event(span, event_index) for event_index in range(len(span.events)))
    events_html = f"<h4>Events</h4><ul>{events}</ul>" if events else ""
    return f'<div class="span-body">{table}{events_html}</div>'


def _resource(span: SpanView) -> Iterable[tuple[str, AttributeValue]]:
    wanted = ("service.name", "service.version", "service.namespace", "host.name")
    return [(key, span.resource[key]) for key in wanted if key in span.resource]


def _event(span: SpanView, index: int) -> str:
    event = span.events[index]
    offset = duration_ns(max(0, event.time_ns - span.start_ns))
    headline = exception_summary(event.attributes)
    text = f"{one_line(event.name)} at +{offset}" + (f": {headline}" if headline else "")
    stack = event.attributes.get("exception.stacktrace")
    rest = [
        (key, value)
        for key, value in ordered_attributes(event.attributes)
        if key not in ("exception.stacktrace", "exception.type", "exception.message")
    ]
    parts = [f"<li>{escape(text)}"]
    if rest:
        parts.append(_table(rest))
    if stack:
        lines = clean(stack)
        parts.append(
            f"<details><summary>stack trace ({len(lines.splitlines())} lines)</summary>"
            f"<pre>{escape(lines)}</pre></details>"
        )
    parts.append("</li>")
    return "".join(parts)


def _table(rows: Sequence[tuple[str, str]]) -> str:
    body = "".join(
        f'<tr><th scope="row">{escape(k)}</th><td>{escape(v)}</td></tr>' for k, v in rows
    )
    return f"<table>{body}</table>"


def _notes(diagnosis: Diagnosis) -> str:
    if not diagnosis.notes:
        return ""
    items = "".join(f"<li>{escape(one_line(note))}</li>" for note in diagnosis.notes)
    return f'<section id="notes"><h2>Notes</h2><ul>{items}</ul></section>'


def _failed(span: SpanView) -> bool:
    return span.status == "error" or span_outcome(span).startswith("errcode")


def _clamp(value: float, upper: float = 100.0) -> float:
    return max(0.0, min(upper, value))

"""The terminal and HTML renderings of a diagnosis and of a trace (the browser test opens them)."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from html.parser import HTMLParser
from typing import Optional

import pytest

from opentelemetry.instrumentation.wecom.diagnosis import (
    Diagnosis,
    SpanView,
    TraceView,
    render_html,
    render_text,
    render_trace_html,
    render_trace_text,
    use_color,
)
from opentelemetry.instrumentation.wecom.diagnosis._charts import WIDTH
from opentelemetry.instrumentation.wecom.diagnosis._html import MAX_SPANS
from tests.diagnosis.samples import TRACE_NAMES, empty, healthy, incident, recorded_trace

ANSI = re.compile(r"\x1b\[[0-9;]*m")
VOID = {"meta", "br", "hr", "img", "input", "link", "rect", "line", "circle", "polyline"}


def span(span_id: str, parent: Optional[str], start: int, name: str = "") -> SpanView:
    return SpanView(
        trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
        span_id=span_id,
        parent_span_id=parent,
        name=name or f"span {span_id}",
        kind="internal",
        start_ns=start,
        end_ns=start + 1_000_000,
        status="unset",
    )


# --- terminal ------------------------------------------------------------------------------


def test_text_starts_with_the_verdict_then_findings_most_likely_first() -> None:
    text = render_text(incident())
    lines = text.splitlines()

    assert lines[0] == (
        "CRITICAL ip_not_trusted: WeCom refuses calls from egress IP 203.0.113.7: it is not on "
        "the trusted list (+2 more findings)"
    )
    assert lines[1] == (
        "wecom-recorded-app · 2026-12-03 18:30:00 – 18:45:00 UTC (15 min) · 630 calls, "
        "160 failed (25 %)"
    )
    heads = [line for line in lines if re.match(r"\d\. \[", line)]
    assert heads[0].startswith(
        "1. [critical] ip_not_trusted (egress IP not trusted by WeCom)  WeCom refuses"
    )
    assert [h.split()[1:3] for h in heads] == [
        ["[critical]", "ip_not_trusted"],
        ["[warning]", "token_expired"],
        ["[info]", "latency_degradation"],
    ]


def test_text_finding_has_window_apis_errcodes_impact_evidence_traces_and_fix() -> None:
    text = render_text(incident())
    first = text.split("\n1. ", 1)[1].split("\n2. ", 1)[0]

    assert "   window     2026-12-03 18:36:00 – 18:40:00 UTC (4 min)" in first
    assert "   APIs       message/send, user/get" in first
    assert "   errcodes   60020 (Untrusted source IP" in first
    assert "   impact     148 failed calls of 190 (78 %)" in first
    assert "   evidence   - sum(increase(" in first
    assert "              - errmsg of trace 437267e8" in first
    assert "   details    egress_ip: 203.0.113.7" in first
    assert "title:" not in first  # it is in the heading
    assert f"   traces     {TRACE_NAMES['ip_not_trusted']}" in first
    assert "   fix        Add 203.0.113.7 to the app's trusted IPs" in first
    second = text.split("\n2. ", 1)[1].split("\n3. ", 1)[0]
    assert "(+1 more)" in second  # four trace ids, three shown


def _discarding() -> Diagnosis:
    """The incident with its first finding also costing deliveries WeCom discarded silently."""
    diagnosis = incident()
    first = diagnosis.findings[0]
    discarding = replace(first, details={**first.details, "discarded_deliveries": 143})
    return replace(diagnosis, findings=(discarding, *diagnosis.findings[1:]))


def test_deliveries_discarded_silently_are_part_of_the_impact_in_text_and_html() -> None:
    impact = "148 failed calls of 190 (78 %); 143 deliveries silently discarded (errcode 0)"
    text = render_text(_discarding())
    first = text.split("\n1. ", 1)[1].split("\n2. ", 1)[0]
    html = render_html(_discarding())

    assert f"   impact     {impact}\n" in first
    assert "discarded_deliveries" not in first  # not again as a details row
    assert f"<dt>Impact</dt><dd>{impact}</dd>" in html
    assert "discarded_deliveries" not in html
    assert "<li><b>143</b><span>deliveries silently discarded</span></li>" in html


def test_text_lists_apis_most_failed_first_notes_and_sources() -> None:
    text = render_text(incident())

    table = text.split("\nAPIs\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert [row.split()[0] for row in table[1:]] == ["message/send", "user/get", "user/list"]
    assert "Notes\n  - Jaeger answered; 1 of 2 example traces" in text
    assert text.rstrip().endswith(
        "Data: metrics from http://127.0.0.1:9090, traces from http://127.0.0.1:16686."
    )
    assert all(len(line) <= 100 for line in text.splitlines()[1:])  # all but the verdict


def test_text_of_a_healthy_and_of_an_empty_window() -> None:
    assert render_text(healthy()).startswith("Healthy: no critical or warning finding.\n")
    text = render_text(empty())
    assert text.startswith("No WeCom calls in this window: nothing to diagnose.\n")
    assert "No WeCom calls of service 'nobody'" in text


def test_colour_only_when_asked_and_the_words_stay_the_same() -> None:
    plain = render_text(incident())
    coloured = render_text(incident(), color=True)

    assert "\x1b[" not in plain
    assert "\x1b[1;31m" in coloured  # critical in red
    assert ANSI.sub("", coloured) == plain


def test_control_characters_and_secrets_in_the_data_never_reach_the_terminal() -> None:
    diagnosis = incident()
    hostile = replace(
        diagnosis.findings[0],
        summary="bad\x1b[2Jclear",
        evidence=("GET /cgi-bin/gettoken?corpid=ww1&corpsecret=SUPERSECRET1 answered 40001",),
    )
    text = render_text(replace(diagnosis, findings=(hostile,)))

    assert "\x1b" not in text
    assert "SUPERSECRET1" not in text
    assert "corpsecret=REDACTED" in text


@pytest.mark.parametrize(
    ("env", "tty", "expected"),
    [
        ({}, True, True),
        ({}, False, False),
        ({"NO_COLOR": "1"}, True, False),
        ({"FORCE_COLOR": "1"}, False, True),
        ({"TERM": "dumb"}, True, False),
    ],
)
def test_use_color(
    env: dict[str, str], tty: bool, expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    class Stream(io.StringIO):
        def isatty(self) -> bool:
            return tty

    assert use_color(Stream()) is expected


def test_trace_text_indents_children_under_parents_in_start_order() -> None:
    text = render_trace_text(recorded_trace("token_refresh"))
    rows = [line for line in text.splitlines() if line.endswith("|")]

    assert [row.split("  ")[0] for row in rows] == ["app token_refresh", "", "", ""]
    assert [row.strip().split("  ")[0] for row in rows[1:]] == [
        "wecom message/send",
        "wecom gettoken",
        "wecom message/send",
    ]
    assert "errcode 42001" in rows[1]
    assert rows[0].count("█") == 40  # the root spans the whole trace
    assert "wecom.token.expires_in = 7200" in text


def test_trace_text_shows_orphans_and_survives_a_cycle() -> None:
    trace = TraceView(
        "4bf92f3577b34da6a3ce929d0e0e4736",
        (
            span("a" * 16, None, 0, "root"),
            span("b" * 16, "f" * 16, 10, "orphan"),
            span("c" * 16, "d" * 16, 20, "loop c"),
            span("d" * 16, "c" * 16, 30, "loop d"),
        ),
    )

    text = render_trace_text(trace)

    rows = [line for line in text.splitlines() if line.endswith("|")]
    assert len(rows) == 4
    assert rows[1].startswith("↳ orphan")
    assert f"parent span {'f' * 16} is not in this trace" in text


# --- HTML ----------------------------------------------------------------------------------


class _Checker(HTMLParser):
    """Collects tags, checks that every element is closed in order, and every URL is local."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: dict[str, int] = {}
        self.urls: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for name, value in attrs:
            if name in ("href", "src", "xlink:href", "action") and value is not None:
                self.urls.append(value)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def check(html: str) -> _Checker:
    checker = _Checker()
    checker.feed(html)
    checker.close()
    assert checker.errors == []
    assert checker.stack == []
    return checker


def test_html_is_well_formed_self_contained_and_scriptless() -> None:
    html = render_html(incident())
    checker = check(html)

    assert html.startswith('<!doctype html>\n<html lang="en">')
    assert "default-src 'none'" in html
    assert checker.tags.get("script", 0) == 0
    assert checker.tags["style"] == 1
    assert "@import" not in html
    assert "url(" not in html
    assert all(url.startswith("#") for url in checker.urls), checker.urls
    assert checker.tags["svg"] == 9
    assert checker.tags["article"] == 3 + 5  # findings, traces


def test_html_has_every_part_of_the_report() -> None:
    html = render_html(incident())
    text = " ".join(check(html).text)

    for section in ("summary", "findings", "charts", "errcodes", "apis", "traces", "notes"):
        assert f'id="{section}"' in html
    assert "Untrusted source IP" in text  # errcode meaning
    assert "Refresh token (expires_in normally 7200 s)" in text  # remediation
    assert "not allow to access from your ip" in text  # span attribute
    assert "ReadError: [Errno 104] Connection reset by peer" in text  # event
    assert f'href="#trace-{TRACE_NAMES["ip_not_trusted"]}"' in html
    assert "(not in this report:" in text  # trace ids without a fetched trace
    assert "<code>ip_not_trusted</code> — egress IP not trusted by WeCom</h3>" in html


def test_html_shades_a_finding_that_may_be_going_on_up_to_the_window_end() -> None:
    diagnosis = incident()
    ongoing = replace(diagnosis.findings[0], ended_at=None)  # on message/send and user/get
    html = render_html(replace(diagnosis, findings=(ongoing, *diagnosis.findings[1:])))

    bands = re.findall(
        r'<rect class="band" x="([0-9.]+)" y="[0-9]+" width="([0-9.]+)" height="[0-9]+">'
        r"<title>finding 1: ip_not_trusted</title>",
        html,
    )
    assert len(bands) == 2 * 3  # three charts for each of its two APIs
    assert {round(float(x) + float(width)) for x, width in bands} == {
        WIDTH - 2  # the right edge of the plot
    }


def test_html_unfolds_the_first_failed_span_of_each_example_trace() -> None:
    html = render_html(incident())

    # ip_not_trusted, token_refresh and network_error each have one failed span; the partial
    # failure and the healthy trace none.
    assert html.count('<details class="status-error" open>') == 3


def test_html_escapes_hostile_text_and_scrubs_secrets() -> None:
    hostile = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    diagnosis = incident()
    finding = replace(
        diagnosis.findings[0],
        summary=hostile,
        cause=hostile,
        evidence=("token call gettoken?corpsecret=SUPERSECRET2",),
        apis=(hostile,),
    )
    html = render_html(replace(diagnosis, findings=(finding,), service=hostile, notes=(hostile,)))

    checker = check(html)
    assert checker.tags.get("script", 0) == 0
    assert checker.tags.get("img", 0) == 0
    assert "SUPERSECRET2" not in html
    assert hostile in " ".join(checker.text)


def test_html_of_an_empty_window_has_no_charts_nor_traces() -> None:
    html = render_html(empty())
    check(html)

    assert "No WeCom calls in this window." in html
    assert 'id="charts"' not in html
    assert 'id="traces"' not in html


def test_html_of_a_healthy_window() -> None:
    html = render_html(healthy())
    check(html)

    assert '<header class="verdict healthy">' in html
    assert "No finding: nothing anomalous in this window." in html


def test_a_huge_trace_is_drawn_up_to_the_span_cap() -> None:
    spans = tuple(
        span(f"{i + 1:016x}", None if i == 0 else "0000000000000001", i) for i in range(1200)
    )
    html = render_trace_html(TraceView("4bf92f3577b34da6a3ce929d0e0e4736", spans))
    check(html)

    assert html.count('<details class="status-') == MAX_SPANS
    assert f"{1200 - MAX_SPANS} more spans not drawn." in html


def test_the_page_of_one_trace() -> None:
    trace = recorded_trace("token_refresh")
    html = render_trace_html(trace)
    check(html)

    assert f"<title>Trace {trace.trace_id}</title>" in html
    assert html.count('<details class="status-error" open>') == 1
    assert html.count('<details class="status-ok">') == 3

"""The HTML reports opened in a real headless browser: Debian's chromium, driven by Playwright.

Chromium comes from ``make browser`` (part of ``make test``); Playwright only drives it (no
browser download). Each page is opened over ``file://`` in a fresh profile with networking
features off; the test fails on any console message of type error or warning, any page error,
any request that is not the page itself, and any dialog. Screenshots are kept in
``build/test-artifacts/`` (``diagnosis-report.png``, ``diagnosis-report-dark.png``,
``diagnosis-report-20-apis.png``, ``trace.png``) next to the HTML they show.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from opentelemetry.instrumentation.wecom.diagnosis import render_html, render_trace_html
from tests._support import missing
from tests.diagnosis.samples import TRACE_NAMES, healthy, incident, recorded_trace

ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    configured = os.environ.get("CHROMIUM")
    found = configured or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).is_file():
        missing(f"chromium not found at {found}: install it with `make browser`")
    return found


@dataclass
class Visit:
    page: Any
    problems: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright package is missing: pip install -e '.[dev]'")
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=executable,
            args=CHROMIUM_FLAGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


def open_page(browser: Any, html: str, name: str, color_scheme: str = "light") -> Visit:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.html"
    path.write_text(html, encoding="utf-8")
    page = browser.new_page()
    page.emulate_media(color_scheme=color_scheme)
    visit = Visit(page)
    page.on(
        "console",
        lambda message: (
            visit.problems.append(f"console {message.type}: {message.text}")
            if message.type in ("error", "warning", "assert")
            else None
        ),
    )
    page.on("pageerror", lambda error: visit.problems.append(f"page error: {error}"))
    page.on("dialog", lambda dialog: visit.problems.append(f"dialog: {dialog.message}"))
    page.on(
        "request",
        lambda request: (
            visit.problems.append(f"request: {request.url}")
            if request.url != path.as_uri()
            else None
        ),
    )
    response = page.goto(path.as_uri(), wait_until="load")
    assert response is not None
    assert response.ok
    return visit


def screenshot(visit: Visit, name: str) -> Path:
    target = ARTIFACTS / f"{name}.png"
    visit.page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 10_000  # a real picture, not an empty page
    return target


def test_the_incident_report_renders_verdict_findings_charts_and_waterfalls(
    browser: Any,
) -> None:
    diagnosis = incident(apis=3, traces=5)
    visit = open_page(browser, render_html(diagnosis), "diagnosis-report")
    page = visit.page

    heading = page.locator("h1")
    assert heading.is_visible()
    assert heading.inner_text().startswith("ip_not_trusted: WeCom refuses calls")
    assert page.locator("header .sev").inner_text().strip().lower() == "critical"
    findings = page.locator("article.finding")
    assert findings.count() == 3
    for index in range(3):
        assert findings.nth(index).is_visible()
    assert "203.0.113.7" in findings.nth(0).locator(".fix").inner_text()

    charts = page.locator("svg.chart")
    assert charts.count() == 3 * 3
    for index in range(charts.count()):
        box = charts.nth(index).bounding_box()
        assert box is not None
        assert box["width"] > 200
        assert box["height"] > 50
    assert page.locator("svg.chart.errors rect.bar").count() > 0
    assert page.locator("svg.chart rect.band").count() > 0
    assert page.locator("svg.chart.calls polyline.line").count() == 3

    assert page.locator("#errcodes tbody tr").count() == 2
    assert "60020" in page.locator("#errcodes").inner_text()

    traces = page.locator("article.trace")
    assert traces.count() == 5
    failed = page.locator(f"#trace-{TRACE_NAMES['ip_not_trusted']} details.status-error")
    assert failed.get_attribute("open") is not None
    attributes = failed.locator(".span-body")
    assert attributes.is_visible()
    assert "not allow to access from your ip" in attributes.inner_text()
    bar = failed.locator(".track .bar")
    box = bar.bounding_box()
    assert box is not None
    assert box["width"] > 1

    # A link from a finding to its example trace lands on the waterfall.
    page.locator(f"a[href='#trace-{TRACE_NAMES['ip_not_trusted']}']").click()
    assert page.evaluate("location.hash") == f"#trace-{TRACE_NAMES['ip_not_trusted']}"

    # A folded span opens with the keyboard and shows its attributes.
    folded = page.locator(f"#trace-{TRACE_NAMES['healthy']} details").nth(1)
    assert not folded.locator(".span-body").is_visible()
    folded.locator("summary").focus()
    page.keyboard.press("Enter")
    assert folded.locator(".span-body").is_visible()
    assert "wecom.api" in folded.locator(".span-body").inner_text()

    screenshot(visit, "diagnosis-report")
    assert visit.problems == []


def test_the_report_in_dark_mode_has_no_errors(browser: Any) -> None:
    visit = open_page(browser, render_html(incident()), "diagnosis-report-dark", "dark")

    background = visit.page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(13, 17, 23)"
    screenshot(visit, "diagnosis-report-dark")
    assert visit.problems == []


def test_twenty_apis_and_no_traces_render(browser: Any) -> None:
    visit = open_page(browser, render_html(incident(apis=20, traces=0)), "diagnosis-report-20-apis")
    page = visit.page

    assert page.locator("#charts tbody tr").count() == 20
    assert page.locator("svg.chart").count() == 60
    assert page.locator("article.trace").count() == 0
    assert page.locator("#apis tbody tr").count() == 20
    # Nothing wider than the window: the tables scroll inside their own box.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    screenshot(visit, "diagnosis-report-20-apis")
    assert visit.problems == []


def test_a_healthy_report_says_so(browser: Any) -> None:
    visit = open_page(browser, render_html(healthy()), "diagnosis-healthy")

    assert visit.page.locator("h1").inner_text() == "Healthy: no critical or warning finding."
    assert visit.page.locator("article.finding").count() == 0
    assert visit.page.locator("svg.chart").count() == 3
    assert visit.problems == []


def test_one_trace_page_renders_its_waterfall(browser: Any) -> None:
    trace = recorded_trace("network_error")
    visit = open_page(browser, render_trace_html(trace), "trace")
    page = visit.page

    assert page.locator("h1").inner_text() == f"Trace {trace.trace_id}"
    rows = page.locator(".waterfall > details")
    assert rows.count() == 2
    failed = rows.nth(1)
    assert failed.get_attribute("open") is not None
    assert "ReadError: [Errno 104] Connection reset by peer" in failed.inner_text()
    assert page.locator(".track .event").count() == 1
    screenshot(visit, "trace")
    assert visit.problems == []


def test_hostile_text_stays_text(browser: Any) -> None:
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    diagnosis = incident()
    finding = diagnosis.findings[0]
    diagnosis = replace(
        diagnosis,
        service=hostile,
        findings=(replace(finding, summary=hostile, evidence=(hostile,)), *diagnosis.findings[1:]),
        notes=(hostile,),
    )
    visit = open_page(browser, render_html(diagnosis), "diagnosis-hostile")

    assert hostile in visit.page.locator("h1").inner_text()
    assert visit.page.locator("img").count() == 0
    assert visit.page.locator("script").count() == 0
    assert visit.problems == []

"""`wecom-otel demo` ends with the diagnosis of its own incident and writes the HTML report.

The demo runs as a user runs it (a subprocess, no stack): the diagnosis comes from the spans
the run kept in memory, through the same engine as `wecom-otel diagnose`.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.demo.test_demo import SMALL_RUN, run_demo

# What the scenario injects (demo/scenario.py), as the causes of the catalogue.
INJECTED_CAUSES = {"ip_not_trusted", "rate_limited", "token_expired", "recipients_unreachable"}
DEFAULT_REPORT = "wecom-otel-demo-report.html"


def demo(cwd: Path, *args: str, status: int = 0) -> subprocess.CompletedProcess[str]:
    result = run_demo(*args, cwd=cwd)
    assert result.returncode == status, result.stderr
    return result


@pytest.fixture(scope="module")
def text_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    cwd = tmp_path_factory.mktemp("demo-text")
    return cwd, demo(cwd, *SMALL_RUN).stdout


def test_the_text_output_ends_with_the_diagnosis_of_the_incident(
    text_run: tuple[Path, str],
) -> None:
    _, out = text_run
    summary, _, diagnosis = out.partition(
        "\nDiagnosis of this run (from the spans it kept in memory"
    )

    assert "Top errcodes" in summary
    lines = diagnosis.splitlines()
    verdict = lines[2]
    assert verdict.startswith(("CRITICAL ", "WARNING ")), verdict
    assert "wecom-otel-demo ·" in lines[3]
    heads = [line.split()[2] for line in lines if line[:1].isdigit() and ". [" in line]
    assert set(heads) >= INJECTED_CAUSES, heads
    assert "   fix        " in diagnosis
    assert "   traces     " in diagnosis


def test_the_html_report_is_written_in_the_current_directory(text_run: tuple[Path, str]) -> None:
    cwd, out = text_run
    report = cwd / DEFAULT_REPORT

    assert out.rstrip().endswith(f"HTML report (open it in a browser): {report.resolve()}")
    html = report.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>")
    for cause in INJECTED_CAUSES:
        assert f"<code>{cause}</code>" in html
    assert 'class="trace"' in html


def test_json_has_the_diagnosis_with_example_traces_and_the_report_path(tmp_path: Path) -> None:
    report = tmp_path / "elsewhere" / "report.html"
    report.parent.mkdir()

    document: dict[str, Any] = json.loads(
        demo(tmp_path, "--json", "--html", str(report), *SMALL_RUN).stdout
    )

    diagnosis = document["diagnosis"]
    assert document["report"] == str(report.resolve())
    assert report.is_file()
    assert not (tmp_path / DEFAULT_REPORT).exists()
    assert diagnosis["service"] == "wecom-otel-demo"
    assert diagnosis["healthy"] is False
    assert diagnosis["calls"] == document["calls"]
    causes = [finding["cause"] for finding in diagnosis["findings"]]
    assert set(causes) >= INJECTED_CAUSES, causes
    drawn = {trace["trace_id"] for trace in diagnosis["traces"]}
    cited = {tid for finding in diagnosis["findings"] for tid in finding["trace_ids"]}
    assert cited
    assert cited <= drawn  # every example trace of a finding is in the report


def test_no_report_when_html_is_empty(tmp_path: Path) -> None:
    out = demo(tmp_path, "--html", "", *SMALL_RUN).stdout

    assert "HTML report" not in out
    assert list(tmp_path.iterdir()) == []


def test_a_report_that_cannot_be_written_is_one_line_and_the_rest_is_printed(
    tmp_path: Path,
) -> None:
    target = tmp_path / "no such directory" / "report.html"
    result = demo(tmp_path, "--html", str(target), *SMALL_RUN, status=2)

    assert f"wecom-otel demo: cannot write {target}: No such file or directory\n" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Diagnosis of this run" in result.stdout
    assert "HTML report" not in result.stdout

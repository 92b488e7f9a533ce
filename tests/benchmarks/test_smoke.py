"""The benchmark harness in ``--quick`` mode: it runs end to end and measures something real.

No timing assertions (a few calls measure nothing); the checks are that every
configuration ran and produced exactly the spans it should, so the harness
cannot rot into timing code that no longer instruments anything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Spans per call of each configuration: (a) bare, (b) stock, (c) WeCom, (d) both, HTTP kept,
# and the reference row of a minimal span + metric wrapper.
EXPECTED_SPANS = {"a": 0, "b": 1, "c": 1, "d": 2, "floor": 1}


def _benchmark(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m <module> <args>`` from the repository root; it must succeed."""
    completed = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    output = tmp_path_factory.mktemp("bench") / "quick.json"
    completed = _benchmark("benchmarks", "--quick", "--json", str(output))
    assert "QUICK RUN" in completed.stdout
    data: dict[str, Any] = json.loads(output.read_text(encoding="utf-8"))
    return data


def _spans(matrix: dict[str, Any]) -> dict[str, float]:
    return {key: samples["spans_per_call"] for key, samples in matrix["samples"].items()}


def test_every_configuration_of_every_client_produces_its_spans(results: dict[str, Any]) -> None:
    assert [matrix["library"] for matrix in results["matrices"]] == ["httpx", "requests", "aiohttp"]
    for matrix in results["matrices"]:
        assert _spans(matrix) == EXPECTED_SPANS
        for samples in matrix["samples"].values():
            assert len(samples["cpu_us"]) == matrix["rounds"]
            assert all(value > 0 for value in samples["cpu_us"])


def test_async_and_body_sizes_compare_bare_with_wecom(results: dict[str, Any]) -> None:
    titles = [matrix["title"] for matrix in results["bodies"]]
    assert titles == [
        "JSON 100 B",
        "JSON 1 MB",
        "JSON 10 MB",
        "media 10 MB binary",
        "JSON errcode 60011",
        "JSON 100 B, in-memory transport",
        "JSON 10 MB, in-memory transport",
        "media 10 MB binary, in-memory transport",
    ]
    for matrix in [results["in_flight"], *results["bodies"]]:
        assert _spans(matrix) == {"a": 0, "c": 1}


def test_callback_middleware_rows_compare_the_bare_app_with_the_middleware(
    results: dict[str, Any],
) -> None:
    titles = [matrix["title"] for matrix in results["callbacks"]]
    assert titles == [
        "Flask (WSGI): template-card click",
        "Flask (WSGI): ordinary POST",
        "Starlette (ASGI): template-card click",
        "Starlette (ASGI): ordinary POST",
    ]
    clicks, ordinary = results["callbacks"][0::2], results["callbacks"][1::2]
    for matrix in clicks:
        assert _spans(matrix) == {"a": 0, "c": 1, "u": 1}  # one SERVER span per callback
    for matrix in ordinary:
        assert _spans(matrix) == {"a": 0, "p": 0}  # passed through, never recorded


def test_memory_series_and_profile_sections_are_reported(results: dict[str, Any]) -> None:
    assert len(results["memory"]) >= 2
    series = results["series"]
    assert series["calls_recorded"] == series["paths"]
    assert series["series"] <= series["max_apis"] + 1
    assert set(results["profiles"]) == {"httpx", "requests"}
    for bare, wecom in results["profiles"].values():
        assert "wecom instrumentation" in wecom["areas_us"]
        assert "wecom instrumentation" not in bare["areas_us"]
    assert any("PASS" in line or "OVER" in line or "n/a" in line for line in results["budgets"])


@pytest.mark.parametrize(
    ("client", "configuration", "spans", "request_wrapped"),
    [
        ("httpx", "a", 0, False),
        ("httpx", "floor", 55, False),
        ("requests", "c", 55, True),
        ("requests", "c-nostock", 55, False),
    ],
)
def test_the_instruction_count_children_run_what_they_say(
    client: str, configuration: str, spans: int, request_wrapped: bool
) -> None:
    """``benchmarks.instructions`` counts what its children run; here they run without
    valgrind: 50 warm-up calls and 5 counted ones, and the spans they made."""
    child = ["--child", client, configuration, "get", "5"]
    report = json.loads(_benchmark("benchmarks.instructions", *child).stdout)
    assert report == {"spans": spans, "request_wrapped": request_wrapped}

"""``wecom-otel explain``, run as a real command and in process."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from opentelemetry.instrumentation.wecom.cli import main


def _wecom_otel() -> str:
    # The console script installed next to the interpreter running the tests (.venv/bin).
    found = shutil.which("wecom-otel", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("the wecom-otel console script is not installed in this environment")
    return found


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_wecom_otel(), "explain", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


def test_card_for_a_person() -> None:
    proc = _run("60020")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("60020  不安全的访问IP\n")
    for expected in (
        "meaning ",
        "category     ip_whitelist",
        "retry        no:",
        "hint (zh)    不安全的访问IP",
        "remediation ",
        "reference    https://open.work.weixin.qq.com/devtool/query?e=60020",
    ):
        assert expected in out
    assert proc.stderr == ""


def test_json_for_a_script() -> None:
    proc = _run("60020", "--json")
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert record["input"] == "60020"
    assert record["code"] == 60020
    assert record["title_zh"] == "不安全的访问IP"
    assert (record["category"], record["retryable"], record["known"]) == (
        "ip_whitelist",
        False,
        True,
    )
    assert record["query_url"].endswith("?e=60020")


def test_several_codes_including_negative_one() -> None:
    proc = _run("42001", "-1", "45009", "--json")
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(r["code"], r["category"], r["retryable"]) for r in records] == [
        (42001, "auth", True),
        (-1, "system", True),
        (45009, "rate_limit", True),
    ]


def test_unknown_code_fails_but_prints_the_default() -> None:
    proc = _run("45047")
    assert proc.returncode == 1
    assert "45047" in proc.stdout
    assert "not in the official" in proc.stdout
    assert "devtool/query?e=45047" in proc.stdout
    assert "not in the official WeCom errcode table: 45047" in proc.stderr


def test_garbage_fails_without_a_traceback() -> None:
    proc = _run("abc", "60020", "--json")
    assert proc.returncode == 1
    first, second = (json.loads(line) for line in proc.stdout.splitlines())
    assert (first["input"], first["known"], first["category"]) == ("abc", False, "other")
    assert second["known"]
    assert "Traceback" not in proc.stderr


def test_no_code_is_a_usage_error() -> None:
    proc = _run()
    assert proc.returncode == 2
    assert "usage" in proc.stderr


def test_python_dash_m() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "opentelemetry.instrumentation.wecom.cli", "explain", "93000"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("93000  ")
    assert "category     auth" in proc.stdout


@pytest.mark.parametrize(
    ("code", "advice"),
    [
        ("42001", "yes: once, after refreshing the token"),
        ("45009", "yes: after backing off"),
        ("-1", "yes: with exponential backoff, at most 3 tries"),
        ("40001", "no:"),
        ("0", "n/a"),
    ],
)
def test_retry_advice(code: str, advice: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", code]) == 0
    assert f"retry        {advice}" in capsys.readouterr().out

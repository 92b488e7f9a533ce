"""``wecom-otel diagnose``: options, output formats and exit statuses, on recorded backends."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pytest

from opentelemetry.instrumentation.wecom.cli import main
from opentelemetry.instrumentation.wecom.cli.diagnose import parse_duration, parse_moment
from tests.diagnosis.recorded import Recording, closed_port_url, serve
from tests.diagnosis.test_diagnose_recorded import schema


def _window(recording: Recording) -> list[str]:
    return [
        "--service",
        recording.service,
        "--start",
        str(recording.start),
        "--end",
        datetime.fromtimestamp(recording.end, tz=timezone.utc).isoformat(),
        "--lag",
        str(recording.lag),
    ]


def run_cli(
    capsys: pytest.CaptureFixture[str], name: str, *extra: str, jaeger: str = ""
) -> tuple[int, str, str]:
    recording = Recording.load(name)
    with serve(recording) as replay:
        code = main(
            [
                "diagnose",
                "--prometheus",
                replay.url,
                "--jaeger",
                jaeger or replay.url,
                *_window(recording),
                *extra,
            ]
        )
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15m", 900), ("90s", 90), ("1h30m", 5400), ("2d", 172800), ("500ms", 0.5)],
)
def test_durations_use_prometheus_units(text: str, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "15", "m", "15 minutes", "-5m", "0s"])
def test_a_bad_duration_is_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_duration(text)


def test_times_are_rfc3339_or_unix_seconds_and_utc_without_a_zone() -> None:
    expected = datetime(2026, 12, 3, 10, 15, tzinfo=timezone.utc)
    assert parse_moment("2026-12-03T10:15:00Z") == expected
    assert parse_moment("2026-12-03T18:15:00+08:00") == expected
    assert parse_moment("2026-12-03T10:15:00") == expected
    assert parse_moment(str(expected.timestamp())) == expected
    with pytest.raises(argparse.ArgumentTypeError):
        parse_moment("yesterday")


def test_since_and_start_together_are_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["diagnose", "--since", "5m", "--start", "2026-12-03T10:00:00Z"])
    assert exited.value.code == 2
    assert "--since and --start" in capsys.readouterr().err


def test_an_unreachable_prometheus_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    down = closed_port_url()
    code = main(["diagnose", "--prometheus", down, "--jaeger", closed_port_url()])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert down in err
    assert "wecom-otel stack up" in err


def test_the_prometheus_url_comes_from_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    down = closed_port_url()
    monkeypatch.setenv("WECOM_OTEL_PROMETHEUS_URL", down)
    assert main(["diagnose", "--since", "5m"]) == 2
    assert down in capsys.readouterr().err


def test_json_with_findings_follows_the_schema_and_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run_cli(capsys, "ip_not_trusted", "--json")
    document = json.loads(out)
    jsonschema.validate(document, schema(), format_checker=jsonschema.FormatChecker())
    assert code == 1
    assert document["healthy"] is False
    assert document["findings"][0]["cause"] == "ip_not_trusted"


def test_a_healthy_service_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "healthy", "--json")
    assert code == 0
    assert json.loads(out)["healthy"] is True


def test_an_unknown_service_says_so_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "unknown_service")
    assert code == 0
    assert "unknown service 'no-such-service'" in out


def test_jaeger_down_gives_a_diagnosis_from_metrics_that_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    down = closed_port_url()
    code, out, _ = run_cli(capsys, "rate_limited", "--json", jaeger=down)
    document = json.loads(out)
    assert code == 1
    assert document["findings"][0]["cause"] == "rate_limited"
    assert document["findings"][0]["trace_ids"] == []
    assert any(down in note and "metrics alone" in note for note in document["notes"])


def test_the_terminal_report_leads_with_the_root_cause(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run_cli(capsys, "two_faults")
    assert code == 1
    assert out.index("ip_not_trusted") < out.index("permission_denied")
    assert "127.0.0.1" in out  # the egress IP to trust


def test_html_writes_a_self_contained_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "report.html"
    code, out, _ = run_cli(capsys, "latency_degradation", "--html", str(target))
    page = target.read_text(encoding="utf-8")
    assert code == 1
    assert str(target) in out
    assert "<svg" in page
    assert "latency_degradation" in page
    assert 'src="http' not in page  # nothing fetched from the network


def test_a_report_that_cannot_be_written_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "no such directory" / "report.html"
    code, out, err = run_cli(capsys, "latency_degradation", "--html", str(target))
    assert code == 2
    assert "latency_degradation" in out  # the diagnosis itself was printed
    assert err == f"wecom-otel diagnose: cannot write {target}: No such file or directory\n"

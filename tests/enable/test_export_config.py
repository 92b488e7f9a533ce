"""How enable() reads its export settings: arguments, then OTEL_* variables, then defaults."""

from __future__ import annotations

import re

import pytest

from opentelemetry.instrumentation.wecom._export_config import resolve_signal


def test_defaults_follow_the_specification() -> None:
    traces = resolve_signal("traces", environ={})
    assert traces.exporters == ("otlp",)
    assert traces.otlp is not None
    assert (traces.otlp.protocol, traces.otlp.url) == (
        "http/protobuf",
        "http://localhost:4318/v1/traces",
    )
    grpc = resolve_signal("metrics", environ={"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})
    assert grpc.otlp is not None
    assert (grpc.otlp.url, grpc.otlp.port) == ("http://localhost:4317", 4317)


def test_signal_specific_variables_win_over_general_ones() -> None:
    environ = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://general:4318/",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://traces.example:443/custom/path",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/protobuf",
    }
    traces = resolve_signal("traces", environ=environ)
    metrics = resolve_signal("metrics", environ=environ)
    assert traces.otlp is not None
    assert metrics.otlp is not None
    assert (traces.otlp.protocol, traces.otlp.url, traces.otlp.source) == (
        "grpc",
        "https://traces.example:443/custom/path",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    )
    assert (metrics.otlp.protocol, metrics.otlp.url) == (
        "http/protobuf",
        "http://general:4318/v1/metrics",
    )


def test_arguments_win_over_the_environment() -> None:
    environ = {
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://env:4318/v1/traces",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_TRACES_EXPORTER": "none",
    }
    traces = resolve_signal(
        "traces",
        exporters="otlp,console",
        endpoint="http://arg:4318",
        protocol="http/protobuf",
        environ=environ,
    )
    assert traces.exporters == ("otlp", "console")
    assert traces.otlp is not None
    assert (traces.otlp.url, traces.otlp.source) == ("http://arg:4318/v1/traces", "endpoint")


@pytest.mark.parametrize(
    ("value", "exporters"),
    [("none", ()), ("console", ("console",)), (" OTLP , none ", ("otlp",)), ("", ("otlp",))],
)
def test_exporter_lists(value: str, exporters: tuple[str, ...]) -> None:
    config = resolve_signal("metrics", environ={"OTEL_METRICS_EXPORTER": value})
    assert config.exporters == exporters
    assert (config.otlp is not None) == ("otlp" in exporters)


@pytest.mark.parametrize(
    ("kwargs", "environ", "message"),
    [
        ({"protocol": "http/json"}, {}, "protocol='http/json' is not a supported OTLP protocol"),
        (
            {},
            {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "udp"},
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL='udp' is not a supported",
        ),
        ({"endpoint": "collector:4317"}, {}, "endpoint='collector:4317' is not a valid OTLP"),
        (
            {},
            {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "ftp://collector"},
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT='ftp://collector' is not a valid OTLP endpoint",
        ),
        ({"exporters": "jaeger"}, {}, "traces_exporter='jaeger': unsupported exporter 'jaeger'"),
    ],
)
def test_malformed_settings_name_their_source(
    kwargs: dict[str, str], environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        resolve_signal("traces", environ=environ, **kwargs)  # type: ignore[arg-type]


def test_a_malformed_setting_of_an_unused_exporter_is_ignored() -> None:
    config = resolve_signal(
        "traces", environ={"OTEL_TRACES_EXPORTER": "console", "OTEL_EXPORTER_OTLP_PROTOCOL": "x"}
    )
    assert config.exporters == ("console",)

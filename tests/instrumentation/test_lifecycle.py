"""instrument / uninstrument, idempotence, suppression, and errors contained."""

from __future__ import annotations

import httpx
import pytest
import requests
from opentelemetry.instrumentation.utils import suppress_instrumentation

from opentelemetry.instrumentation.wecom import WeComInstrumentor
from opentelemetry.instrumentation.wecom._transports import _common
from opentelemetry.instrumentation.wecom.testing import MockWeComServer

from .conftest import Telemetry


def _methods() -> list[object]:
    return [
        httpx.Client.send,
        httpx.AsyncClient.send,
        requests.Session.send,
        requests.Session.request,
    ]


def test_uninstrument_restores_the_originals(telemetry: Telemetry, mock: MockWeComServer) -> None:
    originals = _methods()
    instrumentor = WeComInstrumentor()
    instrumentor.instrument(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        hosts=[mock.host],
    )
    assert all(a is not b for a, b in zip(_methods(), originals))
    instrumentor.uninstrument()
    assert _methods() == originals
    httpx.get(f"{mock.api_base_url}gettoken")
    assert telemetry.spans() == []


def test_instrumenting_twice_is_harmless(telemetry: Telemetry, mock: MockWeComServer) -> None:
    kwargs = {
        "tracer_provider": telemetry.tracer_provider,
        "meter_provider": telemetry.meter_provider,
        "hosts": [mock.host],
    }
    WeComInstrumentor().instrument(**kwargs)
    WeComInstrumentor().instrument(**kwargs)
    try:
        httpx.get(f"{mock.api_base_url}gettoken")
    finally:
        WeComInstrumentor().uninstrument()
    assert len(telemetry.wecom_spans()) == 1
    assert telemetry.duration_count() == 1


def test_suppress_instrumentation_is_honoured(
    instrumented: Telemetry, mock: MockWeComServer
) -> None:
    with suppress_instrumentation():
        httpx.get(f"{mock.api_base_url}gettoken")
        requests.get(f"{mock.api_base_url}gettoken")
    assert instrumented.spans() == []


def test_an_internal_error_never_reaches_the_app(
    instrumented: Telemetry, mock: MockWeComServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug in the instrumentation")

    monkeypatch.setattr(_common.WeComCall, "begin", broken)
    response = httpx.get(
        f"{mock.api_base_url}gettoken",
        params={"corpid": mock.corp_id, "corpsecret": mock.corp_secret},
    )
    assert response.json()["errcode"] == 0
    assert requests.get(f"{mock.api_base_url}gettoken").json()["errcode"] == 41004
    assert instrumented.spans() == []


def test_a_broken_extension_costs_only_its_attributes(
    instrumented: Telemetry, mock: MockWeComServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opentelemetry.instrumentation.wecom._extensions.token import _TokenExtension

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("extension bug")

    monkeypatch.setattr(_TokenExtension, "on_response", broken)
    response = httpx.get(
        f"{mock.api_base_url}gettoken",
        params={"corpid": mock.corp_id, "corpsecret": mock.corp_secret},
    )
    assert response.json()["errcode"] == 0
    (span,) = instrumented.wecom_spans()
    assert span.end_time is not None
    assert instrumented.duration_count() == 1


def test_a_failure_to_make_the_span_current_never_reaches_the_app(
    instrumented: Telemetry, mock: MockWeComServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opentelemetry.instrumentation.wecom import _call

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("context bug")

    monkeypatch.setattr(_call.trace, "set_span_in_context", broken)
    response = httpx.get(
        f"{mock.api_base_url}gettoken",
        params={"corpid": mock.corp_id, "corpsecret": mock.corp_secret},
    )
    assert response.json()["errcode"] == 0
    (span,) = instrumented.wecom_spans()
    assert span.attributes is not None
    assert span.attributes["wecom.errcode"] == 0

"""instrument / uninstrument, idempotence, suppression, and errors contained."""

from __future__ import annotations

import asyncio

import aiohttp
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
        aiohttp.ClientSession._request,
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
    async def aiohttp_get() -> None:
        async with aiohttp.ClientSession() as session:
            await (await session.get(f"{mock.api_base_url}gettoken")).read()

    with suppress_instrumentation():
        httpx.get(f"{mock.api_base_url}gettoken")
        requests.get(f"{mock.api_base_url}gettoken")
        asyncio.run(aiohttp_get())
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
    attributes = dict(span.attributes or {})
    # The extension's attribute is lost; the core's are all there, and so is the point.
    assert "wecom.token.expires_in" not in attributes
    assert attributes["wecom.api"] == "gettoken"
    assert attributes["wecom.errcode"] == 0
    assert attributes["wecom.status"] == "ok"
    assert attributes["http.response.status_code"] == 200
    assert instrumented.duration_count() == 1


def test_the_extension_attribute_is_there_when_the_extension_works(
    instrumented: Telemetry, mock: MockWeComServer
) -> None:
    """The control of the test above: the attribute it expects to lose is normally set."""
    httpx.get(
        f"{mock.api_base_url}gettoken",
        params={"corpid": mock.corp_id, "corpsecret": mock.corp_secret},
    )
    (span,) = instrumented.wecom_spans()
    assert isinstance((span.attributes or {}).get("wecom.token.expires_in"), int)


def test_an_exception_whose_str_fails_still_ends_the_call_with_its_type(
    instrumented: Telemetry, mock: MockWeComServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no text")

    def send(*args: object, **kwargs: object) -> None:
        raise Unprintable

    transport = httpx.MockTransport(send)
    with httpx.Client(transport=transport) as client, pytest.raises(Unprintable):
        client.get(f"{mock.api_base_url}gettoken")
    (span,) = instrumented.wecom_spans()
    assert span.end_time is not None
    assert (span.attributes or {}).get("wecom.status") == "system_error"
    (point,) = instrumented.points("wecom.client.duration")
    assert point.attributes["error.type"].endswith("Unprintable")


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

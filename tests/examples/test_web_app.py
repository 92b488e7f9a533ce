"""The Flask example in-process: served by werkzeug on loopback, driven by WeCom's callback
simulator, its WeCom calls going to the mock and recorded by the instrumentation."""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from opentelemetry.trace import SpanKind
from werkzeug.serving import make_server

from opentelemetry.instrumentation.wecom.testing import CallbackSimulator, MockWeComServer
from tests._support import poll
from tests._telemetry import InMemoryTelemetry

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def web_app() -> Iterator[ModuleType]:
    sys.path.insert(0, str(EXAMPLES))
    try:
        yield importlib.import_module("web_app")
    finally:
        sys.path.remove(str(EXAMPLES))


@pytest.fixture
def mock() -> Iterator[MockWeComServer]:
    with MockWeComServer(seed=1) as server:
        yield server


@pytest.fixture
def telemetry(mock: MockWeComServer) -> Iterator[InMemoryTelemetry]:
    telemetry = InMemoryTelemetry()
    with telemetry.instrumenting(hosts=[mock.host]):
        yield telemetry


@contextmanager
def serving(web_app: ModuleType, mock: MockWeComServer) -> Iterator[str]:
    """The example app, its WeCom calls going to ``mock``, served on loopback; its URL."""
    setup = importlib.import_module("_setup")
    w = setup.WeCom(
        mock.api_base_url,
        mock.corp_id,
        mock.corp_secret,
        mock.agent_id,
        mock.webhook_key,
        [mock.host],
        mock,
    )
    server = make_server("127.0.0.1", 0, web_app.create_app(w), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def app_url(web_app: ModuleType, mock: MockWeComServer) -> Iterator[str]:
    with serving(web_app, mock) as url:
        yield url


def simulator(web_app: ModuleType, mock: MockWeComServer, url: str, **kw: Any) -> CallbackSimulator:
    options: dict[str, Any] = {
        "token": web_app.CALLBACK_TOKEN,
        "encoding_aes_key": web_app.CALLBACK_AES_KEY,
        "corp_id": mock.corp_id,
        "agent_id": mock.agent_id,
        **kw,
    }
    return CallbackSimulator(f"{url}/wecom/callback", **options)


def test_url_verification(web_app: ModuleType, mock: MockWeComServer, app_url: str) -> None:
    verification = simulator(web_app, mock, app_url).verify_url()
    assert verification.ok, verification.attempt
    forged = simulator(web_app, mock, app_url, token="not-the-app-token").verify_url()
    assert not forged.ok
    assert forged.attempt.status == 403


def test_encrypted_event_triggers_a_recorded_message(
    web_app: ModuleType, mock: MockWeComServer, app_url: str, telemetry: InMemoryTelemetry
) -> None:
    delivery = simulator(web_app, mock, app_url).push_event("click", "lisi", EventKey="oncall")
    assert delivery.delivered
    assert len(delivery.attempts) == 1  # answered within WeCom's 5 s, first try
    sent = mock.calls("message/send")
    assert len(sent) == 1
    assert sent[0].errcode == 0
    names = [s.name for s in telemetry.spans("wecom ")]
    assert names == ["wecom gettoken", "wecom message/send"]


def test_undecryptable_push_is_refused(
    web_app: ModuleType, mock: MockWeComServer, app_url: str
) -> None:
    other_key = "A" * 43
    delivery = simulator(web_app, mock, app_url, encoding_aes_key=other_key).push_text("hi")
    assert not delivery.delivered
    assert [a.status for a in delivery.attempts] == [403, 403, 403]  # WeCom tries 3 times
    assert mock.calls("message/send") == []


def test_notify_route_sends_through_wecom(
    mock: MockWeComServer, app_url: str, telemetry: InMemoryTelemetry
) -> None:
    ok = httpx.post(f"{app_url}/notify", json={"user": "wangwu", "text": "Deploy done"})
    assert ok.status_code == 200
    assert ok.json() == {"errcode": 0}
    mock.inject(api="message/send", errcode=60020, calls=[2])
    denied = httpx.post(f"{app_url}/notify", json={"user": "wangwu", "text": "again"})
    assert denied.status_code == 502
    assert denied.json() == {"errcode": 60020}
    errcodes = [s.attributes["wecom.errcode"] for s in telemetry.spans("wecom ") if s.attributes]
    assert errcodes == [0, 0, 60020]


def test_callbacks_are_server_spans_parenting_the_reply(
    web_app: ModuleType,
    mock: MockWeComServer,
    telemetry: InMemoryTelemetry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The example's one-line middleware records to the global providers, as enable() sets."""
    from opentelemetry import trace

    monkeypatch.setattr(trace, "_TRACER_PROVIDER", telemetry.tracer_provider)
    with serving(web_app, mock) as url:
        delivery = simulator(web_app, mock, url).push_event("click", "lisi", EventKey="oncall")
    assert delivery.delivered
    # The server ends the callback span once it has sent the answer.
    poll(lambda: telemetry.spans("wecom callback click"), bool, timeout=10, interval=0.005)
    by_name = {s.name: s for s in telemetry.spans()}
    callback = by_name["wecom callback click"]
    assert callback.kind is SpanKind.SERVER
    assert (callback.attributes or {})["wecom.callback.outcome"] == "ok"
    handle = by_name["handle callback click"]
    assert handle.parent is not None
    assert handle.parent.span_id == callback.context.span_id
    send = by_name["wecom message/send"]
    assert send.context.trace_id == callback.context.trace_id

"""Retries and token refreshes as chains: wechatpy, tenacity and app loops against the mock."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
import tenacity
from opentelemetry.sdk.trace import ReadableSpan
from wechatpy.exceptions import WeChatClientException

from opentelemetry.instrumentation.wecom import wecom_api
from opentelemetry.instrumentation.wecom.testing import MockWeComServer, wechatpy_client
from tests.instrumentation.conftest import Telemetry, attrs


@pytest.fixture
def window(request: pytest.FixtureRequest) -> float:
    return float(getattr(request, "param", 60.0))


@pytest.fixture
def chained(telemetry: Telemetry, mock: MockWeComServer, window: float) -> Iterator[Telemetry]:
    with telemetry.instrumenting(hosts=[mock.host], retry_window=window):
        yield telemetry


def links(span: ReadableSpan) -> list[tuple[int, dict[str, Any]]]:
    return [(link.context.span_id, dict(link.attributes or {})) for link in span.links]


def token(mock: MockWeComServer) -> str:
    reply = httpx.get(
        f"{mock.api_base_url}gettoken",
        params={"corpid": mock.corp_id, "corpsecret": mock.corp_secret},
    )
    return str(reply.json()["access_token"])


def test_wechatpy_refresh_and_retry_without_a_span_is_one_chain(
    chained: Telemetry, mock: MockWeComServer
) -> None:
    """No app span: three root spans in three traces, joined by links and attributes."""
    client = wechatpy_client(mock, timeout=5)
    client.user.get("lisi")  # first token
    mock.expire_tokens()
    client.message.send_text(mock.agent_id, "zhangsan", "after expiry")
    spans = chained.wecom_spans()
    names = [s.name for s in spans]
    assert names == [
        "wecom gettoken",
        "wecom user/get",
        "wecom message/send",
        "wecom gettoken",
        "wecom message/send",
    ]
    first_token, _, failed, refresh, retry = spans
    assert attrs(failed)["wecom.errcode"] == 42001
    assert "wecom.retry.attempt" not in attrs(failed)
    assert attrs(first_token)["wecom.token.refresh.reason"] == "proactive"
    assert attrs(refresh)["wecom.token.refresh.reason"] == "42001"
    assert links(refresh) == [(failed.context.span_id, {"wecom.token.refresh.reason": "42001"})]
    assert attrs(retry)["wecom.retry.attempt"] == 1
    assert attrs(retry)["wecom.retry.reason"] == "42001"
    assert attrs(retry)["wecom.errcode"] == 0
    assert links(retry) == [(failed.context.span_id, {"wecom.retry.reason": "42001"})]
    assert len({s.context.trace_id for s in (failed, refresh, retry)}) == 3  # three roots

    assert chained.counts("wecom.client.retries", "wecom.api", "wecom.retry.reason") == {
        ("message/send", "42001"): 1
    }
    refreshes = chained.counts(
        "wecom.token.refreshes", "wecom.token.refresh.reason", "wecom.status"
    )
    assert refreshes == {("proactive", "ok"): 1, ("42001", "ok"): 1}


def test_wechatpy_refresh_and_retry_under_an_app_span_stays_in_its_trace(
    chained: Telemetry, mock: MockWeComServer
) -> None:
    client = wechatpy_client(mock, timeout=5)
    client.user.get("lisi")
    mock.expire_tokens()
    tracer = chained.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("notify"):
        client.user.get("wangwu")
    failed, refresh, retry = chained.wecom_spans()[-3:]
    assert {s.context.trace_id for s in (failed, refresh, retry)} == {failed.context.trace_id}
    assert attrs(failed)["wecom.errcode"] == 42001
    assert attrs(refresh)["wecom.token.refresh.reason"] == "42001"
    assert (attrs(retry)["wecom.retry.attempt"], attrs(retry)["wecom.retry.reason"]) == (
        1,
        "42001",
    )


@pytest.mark.parametrize("window", [0.0], indirect=True)
def test_a_zero_window_turns_chains_off(chained: Telemetry, mock: MockWeComServer) -> None:
    client = wechatpy_client(mock, timeout=5)
    client.user.get("lisi")
    mock.expire_tokens()
    client.user.get("lisi")
    spans = chained.wecom_spans()
    assert not any("wecom.retry.attempt" in attrs(s) for s in spans)
    assert not any("wecom.token.refresh.reason" in attrs(s) for s in spans)
    assert chained.counts("wecom.client.retries", "wecom.api") == {}
    # Refreshes are still counted by outcome, without a reason.
    assert chained.counts("wecom.token.refreshes", "wecom.status") == {("ok",): 2}


def test_tenacity_retrying_an_httpx_call_counts_every_repeat(
    chained: Telemetry, mock: MockWeComServer
) -> None:
    mock.inject(api="message/send", errcode=-1, calls=[1, 2])
    access_token = token(mock)
    body = {
        "touser": "zhangsan",
        "msgtype": "text",
        "agentid": mock.agent_id,
        "text": {"content": "x"},
    }

    @tenacity.retry(
        retry=tenacity.retry_if_result(lambda reply: reply["errcode"] != 0),
        stop=tenacity.stop_after_attempt(5),
    )
    def send(client: httpx.Client) -> dict[str, Any]:
        reply: dict[str, Any] = client.post(
            "message/send", params={"access_token": access_token}, json=body
        ).json()
        return reply

    with httpx.Client(base_url=mock.api_base_url) as client:
        assert send(client)["errcode"] == 0
    sends = chained.spans("wecom message/send")
    assert [attrs(s).get("wecom.retry.attempt") for s in sends] == [None, 1, 2]
    assert [attrs(s).get("wecom.errcode") for s in sends] == [-1, -1, 0]
    assert links(sends[1])[0][0] == sends[0].context.span_id
    assert links(sends[2])[0][0] == sends[1].context.span_id
    assert chained.counts("wecom.client.retries", "wecom.api", "wecom.retry.reason") == {
        ("message/send", "-1"): 2
    }


def test_exceptions_and_http_errors_are_reasons_too(
    chained: Telemetry, mock: MockWeComServer
) -> None:
    mock.inject(api="user/get", reset=True, calls=[1])
    mock.inject(api="user/get", http_status=502, calls=[2])
    access_token = token(mock)
    session = requests.Session()
    url = f"{mock.api_base_url}user/get"
    for _ in range(3):
        with contextlib.suppress(requests.ConnectionError):
            session.get(url, params={"access_token": access_token, "userid": "lisi"})
    spans = chained.spans("wecom user/get")
    assert [attrs(s).get("wecom.retry.reason") for s in spans] == [None, "ConnectionError", "502"]
    assert [attrs(s).get("wecom.retry.attempt") for s in spans] == [None, 1, 2]


def test_a_loop_over_members_is_not_a_retry_chain(
    chained: Telemetry, mock: MockWeComServer
) -> None:
    """One failing request among different ones: no repeat; resending it is one."""
    access_token = token(mock)
    with httpx.Client(base_url=mock.api_base_url) as client:
        for user in ("ghost", "lisi", "wangwu"):
            client.get("user/get", params={"access_token": access_token, "userid": user})
        client.get("user/get", params={"access_token": access_token, "userid": "ghost"})
    spans = chained.spans("wecom user/get")
    assert [attrs(s)["wecom.errcode"] for s in spans] == [60111, 0, 0, 60111]
    assert [attrs(s).get("wecom.retry.attempt") for s in spans] == [None, None, None, 1]


def test_a_fresh_token_in_the_query_is_still_the_same_request(
    chained: Telemetry, mock: MockWeComServer
) -> None:
    first = token(mock)
    with httpx.Client(base_url=mock.api_base_url) as client:
        client.get("user/get", params={"access_token": "not-a-token", "userid": "lisi"})
        client.get("user/get", params={"access_token": first, "userid": "lisi"})
    failed, retry = chained.spans("wecom user/get")
    assert attrs(failed)["wecom.errcode"] == 40014
    assert (attrs(retry)["wecom.retry.attempt"], attrs(retry)["wecom.retry.reason"]) == (1, "40014")


def test_a_retried_decorated_function_counts_one_retry(
    chained: Telemetry, mock: MockWeComServer
) -> None:
    """tenacity around @wecom_api around httpx: the decorated calls repeat; their HTTP calls
    are chains of their own, so the retry is counted once."""
    mock.inject(api="message/send", errcode=-1, calls=[1])
    access_token = token(mock)
    body = {"touser": "lisi", "msgtype": "text", "agentid": mock.agent_id, "text": {"content": "x"}}
    tracer = chained.tracer_provider.get_tracer("app")

    @tenacity.retry(
        retry=tenacity.retry_if_exception_type(RuntimeError), stop=tenacity.stop_after_attempt(3)
    )
    @wecom_api("message/send")
    def notify() -> dict[str, Any]:
        with httpx.Client(base_url=mock.api_base_url) as client:
            reply: dict[str, Any] = client.post(
                "message/send", params={"access_token": access_token}, json=body
            ).json()
        if reply["errcode"] != 0:
            raise RuntimeError(reply["errmsg"])
        return reply

    with tracer.start_as_current_span("job"):
        notify()
    spans = chained.spans("wecom message/send")
    decorated = [s for s in spans if "http.request.method" not in attrs(s)]
    http = [s for s in spans if "http.request.method" in attrs(s)]
    assert [attrs(s).get("wecom.retry.attempt") for s in decorated] == [None, 1]
    assert attrs(decorated[1])["wecom.retry.reason"] == "RuntimeError"
    assert [attrs(s).get("wecom.retry.attempt") for s in http] == [None, None]
    assert chained.counts("wecom.client.retries", "wecom.api", "wecom.retry.reason") == {
        ("message/send", "RuntimeError"): 1
    }


def test_a_decorated_token_function_passes_its_refresh_reason_to_its_http_call(
    chained: Telemetry, mock: MockWeComServer
) -> None:
    """One refresh point, with the reason the decorated call took from the chain."""

    @wecom_api("gettoken")
    def fetch_token() -> str:
        return token(mock)

    with httpx.Client(base_url=mock.api_base_url) as client:
        client.get("user/get", params={"access_token": "expired", "userid": "lisi"})
        fresh = fetch_token()
        client.get("user/get", params={"access_token": fresh, "userid": "lisi"})
    decorated, http = chained.spans("wecom gettoken")[::-1]  # the inner span ends first
    assert "http.request.method" in attrs(http)
    assert "http.request.method" not in attrs(decorated)
    assert attrs(decorated)["wecom.token.refresh.reason"] == "40014"
    assert attrs(http)["wecom.token.refresh.reason"] == "40014"
    assert chained.counts("wecom.token.refreshes", "wecom.token.refresh.reason") == {("40014",): 1}


def test_a_failing_refresh_repeated_keeps_its_reason_and_counts_failures(
    chained: Telemetry, mock: MockWeComServer
) -> None:
    mock.inject(api="gettoken", errcode=40001, calls=[2, 3])
    client = wechatpy_client(mock, timeout=5)
    client.user.get("lisi")
    mock.expire_tokens()
    with pytest.raises(WeChatClientException):
        client.user.get("lisi")  # 42001 -> gettoken 40001 -> raises
    with pytest.raises(WeChatClientException):
        client.user.get("lisi")  # the cached token is the expired one: 42001 again -> 40001
    refreshes = chained.counts(
        "wecom.token.refreshes",
        "wecom.token.refresh.reason",
        "wecom.status",
        "error.type",
    )
    assert refreshes == {
        ("proactive", "ok", None): 1,
        ("42001", "business_error", "40001"): 2,
    }


def test_sampled_out_calls_still_count_retries_and_refreshes(mock: MockWeComServer) -> None:
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

    telemetry = Telemetry(sampler=ALWAYS_OFF)
    with telemetry.instrumenting(hosts=[mock.host]):
        client = wechatpy_client(mock, timeout=5)
        client.user.get("lisi")
        mock.expire_tokens()
        client.user.get("lisi")
    assert telemetry.counts("wecom.client.retries", "wecom.retry.reason") == {("42001",): 1}
    assert telemetry.counts("wecom.token.refreshes", "wecom.token.refresh.reason") == {
        ("proactive",): 1,
        ("42001",): 1,
    }


def test_asyncio_tasks_without_spans_are_separate_chains(
    chained: Telemetry, mock: MockWeComServer
) -> None:
    """A failure in one task does not make the same request in another task a retry."""
    mock.inject(api="user/get", errcode=-1, calls=[1])
    access_token = token(mock)

    async def lookup(client: httpx.AsyncClient, gate: asyncio.Event, first: bool) -> None:
        if not first:
            await gate.wait()
        await client.get("user/get", params={"access_token": access_token, "userid": "lisi"})
        gate.set()

    async def main() -> None:
        gate = asyncio.Event()
        async with httpx.AsyncClient(base_url=mock.api_base_url) as client:
            await asyncio.gather(lookup(client, gate, True), lookup(client, gate, False))
            await lookup(client, gate, False)  # the main task: a chain of its own too

    asyncio.run(main())
    spans = chained.spans("wecom user/get")
    assert [attrs(s)["wecom.errcode"] for s in spans] == [-1, 0, 0]
    assert not any("wecom.retry.attempt" in attrs(s) for s in spans)


def test_a_broken_tracker_costs_its_marks_never_the_call(
    chained: Telemetry, mock: MockWeComServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opentelemetry.instrumentation.wecom._retries import RetryChains

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("tracker bug")

    monkeypatch.setattr(RetryChains, "idle", property(lambda self: False))  # always consulted
    monkeypatch.setattr(RetryChains, "begin", broken)
    monkeypatch.setattr(RetryChains, "failed", broken)
    client = wechatpy_client(mock, timeout=5)
    client.user.get("lisi")
    mock.expire_tokens()
    assert client.user.get("lisi")["userid"] == "lisi"  # refreshed and retried by wechatpy
    spans = chained.wecom_spans()
    assert [s.name for s in spans][-3:] == ["wecom user/get", "wecom gettoken", "wecom user/get"]
    assert not any("wecom.retry.attempt" in attrs(s) for s in spans)
    assert chained.duration_count() == len(spans)

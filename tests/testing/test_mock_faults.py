"""Fault injection at run time: errcodes, sequences, probability, windows, transport faults."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from opentelemetry.instrumentation.wecom.testing import (
    Fault,
    Latency,
    ManualClock,
    MockWeComServer,
    Outcome,
    RateLimit,
    Scenario,
)
from opentelemetry.instrumentation.wecom.testing.ratelimit import RateLimiter
from tests._support import poll


def ip_codes(client: httpx.Client, token: str, n: int) -> list[int]:
    return [
        client.get("getcallbackip", params={"access_token": token}).json()["errcode"]
        for _ in range(n)
    ]


def test_inject_errcode_on_nth_calls(wecom_mock: MockWeComServer, client: httpx.Client) -> None:
    token = wecom_mock.access_token()
    wecom_mock.inject(api="getcallbackip", errcode=-1, calls=[2, 4])
    assert ip_codes(client, token, 5) == [0, -1, 0, -1, 0]
    faulted = [c.fault for c in wecom_mock.calls()]
    assert faulted == [None, "errcode=-1", None, "errcode=-1", None]


def test_sequence_of_outcomes_then_normal(
    wecom_mock: MockWeComServer, client: httpx.Client
) -> None:
    token = wecom_mock.access_token()
    wecom_mock.inject(api="getcallbackip", sequence=[45009, "ok", {"errcode": 60020}])
    assert ip_codes(client, token, 5) == [45009, 0, 60020, 0, 0]


def test_repeating_sequence(wecom_mock: MockWeComServer, client: httpx.Client) -> None:
    token = wecom_mock.access_token()
    wecom_mock.inject(
        Fault(api="getcallbackip", sequence=(Outcome(errcode=-1), Outcome()), repeat=True)
    )
    assert ip_codes(client, token, 4) == [-1, 0, -1, 0]


def test_times_limits_firings_and_glob_matches_apis(
    wecom_mock: MockWeComServer, client: httpx.Client
) -> None:
    token = wecom_mock.access_token()
    wecom_mock.inject(api="get*", errcode=48002, times=2)
    assert ip_codes(client, token, 3) == [48002, 48002, 0]


def test_errcode_fault_applies_after_token_validation(
    wecom_mock: MockWeComServer, client: httpx.Client
) -> None:
    wecom_mock.inject(api="*", errcode=60020)
    assert client.get("getcallbackip", params={"access_token": "bad"}).json()["errcode"] == 40014
    assert client.get("getcallbackip").json()["errcode"] == 41001
    reply = client.get("getcallbackip", params={"access_token": wecom_mock.access_token()}).json()
    assert reply["errcode"] == 60020
    assert reply["errmsg"].startswith("not allow to access from your ip, hint: [")
    assert reply["ip_list"] == []


def test_custom_errmsg(wecom_mock: MockWeComServer, client: httpx.Client) -> None:
    wecom_mock.inject(api="getcallbackip", errcode=-1, errmsg="system is busy now")
    body = client.get("getcallbackip", params={"access_token": wecom_mock.access_token()}).json()
    assert body["errmsg"].startswith("system is busy now, hint: [")


def test_probability_is_deterministic_with_a_seed() -> None:
    def run() -> list[int]:
        scenario = {
            "seed": 1234,
            "faults": [{"api": "getcallbackip", "errcode": -1, "probability": 0.5}],
        }
        with (
            MockWeComServer(scenario=scenario) as mock,
            httpx.Client(base_url=mock.api_base_url) as c,
        ):
            return ip_codes(c, mock.access_token(), 40)

    first, second = run(), run()
    assert first == second
    assert 5 < first.count(-1) < 35


def _clock_of(mock: MockWeComServer) -> ManualClock:
    clock = mock.clock
    assert isinstance(clock, ManualClock)
    return clock


@pytest.mark.wecom_mock(
    scenario={"faults": [{"api": "*", "errcode": 60020, "after": 30, "until": 60}]},
    clock=ManualClock(),
)
def test_time_window(client: httpx.Client, wecom_mock: MockWeComServer) -> None:
    clock = _clock_of(wecom_mock)
    token = wecom_mock.access_token()
    assert ip_codes(client, token, 1) == [0]
    clock.advance(29.999)
    assert ip_codes(client, token, 1) == [0]
    clock.advance(0.001)  # `after` is inclusive
    assert wecom_mock.elapsed() == pytest.approx(30)
    assert ip_codes(client, token, 2) == [60020, 60020]
    clock.advance(30)  # `until` is exclusive
    assert ip_codes(client, token, 1) == [0]


def test_the_server_measures_time_on_its_clock() -> None:
    clock = ManualClock(start=100.0)
    mock = MockWeComServer(clock=clock)
    assert mock.clock is clock
    assert mock.elapsed() == 0
    clock.advance(2.5)
    assert mock.elapsed() == 2.5
    mock.reset()  # the scenario starts again
    assert mock.elapsed() == 0
    with pytest.raises(ValueError, match="does not go back"):
        clock.advance(-1)


def test_fixed_and_distributed_latency(wecom_mock: MockWeComServer, client: httpx.Client) -> None:
    token = wecom_mock.access_token()
    wecom_mock.inject(api="getcallbackip", latency=0.2)
    started = time.perf_counter()
    assert ip_codes(client, token, 1) == [0]
    assert time.perf_counter() - started >= 0.2
    wecom_mock.clear_faults()
    wecom_mock.inject(api="user/get", latency={"uniform": [0.05, 0.1]})
    started = time.perf_counter()
    client.get("user/get", params={"access_token": token, "userid": "lisi"})
    assert time.perf_counter() - started >= 0.05  # a delay is at least what was asked
    (record,) = wecom_mock.calls("user/get")
    assert record.fault == "latency"
    assert record.duration_ms >= 50


def test_latency_samples_are_clamped() -> None:
    import random

    normal = Latency.parse({"normal": [1.0, 5.0], "min": 0.5, "max": 1.5}, "x")
    rng = random.Random(3)
    samples = [normal.sample(rng) for _ in range(200)]
    assert min(samples) == 0.5
    assert max(samples) == 1.5


def test_latency_combines_with_errcode(wecom_mock: MockWeComServer, client: httpx.Client) -> None:
    wecom_mock.inject(api="getcallbackip", latency=0.1)
    wecom_mock.inject(api="getcallbackip", errcode=-1)
    started = time.perf_counter()
    assert ip_codes(client, wecom_mock.access_token(), 1) == [-1]
    assert time.perf_counter() - started >= 0.1
    assert wecom_mock.calls("getcallbackip")[0].fault == "latency;errcode=-1"


def test_http_5xx_gateway_page(wecom_mock: MockWeComServer, client: httpx.Client) -> None:
    wecom_mock.inject(api="gettoken", http_status=502)
    reply = client.get("gettoken")
    assert reply.status_code == 502
    assert reply.headers["content-type"] == "text/html"
    assert "<title>502 Bad Gateway</title>" in reply.text
    call = wecom_mock.calls()[0]
    assert (call.status, call.errcode, call.fault) == (502, None, "http_status=502")


def test_non_json_200_page(wecom_mock: MockWeComServer, client: httpx.Client) -> None:
    wecom_mock.inject(api="gettoken", http_status=200, body="<html>maintenance</html>")
    reply = client.get("gettoken")
    assert reply.status_code == 200
    assert reply.text == "<html>maintenance</html>"
    with pytest.raises(json.JSONDecodeError):
        reply.json()


def test_connection_reset(wecom_mock: MockWeComServer, client: httpx.Client) -> None:
    wecom_mock.inject(api="gettoken", reset=True, times=1)
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        client.get("gettoken")
    assert client.get("gettoken").json()["errcode"] == 41004  # the next call is served
    assert [(c.status, c.fault) for c in wecom_mock.calls()] == [(None, "reset"), (200, None)]


def test_connection_reset_is_an_rst(wecom_mock: MockWeComServer) -> None:
    import http.client

    wecom_mock.inject(api="gettoken", reset=True)
    connection = http.client.HTTPConnection("127.0.0.1", wecom_mock.port, timeout=5)
    try:
        connection.request("GET", "/cgi-bin/gettoken")
        with pytest.raises(ConnectionResetError):
            connection.getresponse()
    finally:
        connection.close()


def test_hang_times_out_the_client(wecom_mock: MockWeComServer) -> None:
    wecom_mock.inject(api="gettoken", hang=30)
    with pytest.raises(httpx.ReadTimeout):  # the mock sent nothing in the client's 0.3 s
        httpx.get(wecom_mock.api_base_url + "gettoken", timeout=0.3)
    assert wecom_mock.calls("gettoken")[0].fault == "hang=30s"


def test_hang_is_released_by_stop() -> None:
    mock = MockWeComServer().start()
    mock.inject(api="gettoken", hang=60)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            httpx.get(mock.api_base_url + "gettoken", timeout=10)
        except httpx.HTTPError as exc:
            errors.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    assert poll(lambda: mock.calls("gettoken"), bool, timeout=30, interval=0.01)  # hanging now
    mock.stop()
    thread.join(timeout=30)
    assert not thread.is_alive()  # released by stop(), not by the 10 s client timeout
    assert errors
    assert isinstance(errors[0], httpx.RemoteProtocolError)


def test_hang_is_bounded_by_max_hang() -> None:
    with MockWeComServer(max_hang=0.2) as mock:
        mock.inject(api="gettoken", hang=60)
        # The connection is closed after max_hang: a protocol error, not the client's timeout.
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(mock.api_base_url + "gettoken", timeout=30)


@pytest.mark.wecom_mock(clock=ManualClock())
def test_rate_limit_45009_blocks_for_the_block_window(
    wecom_mock: MockWeComServer, client: httpx.Client
) -> None:
    clock = _clock_of(wecom_mock)
    token = wecom_mock.access_token()
    wecom_mock.add_rate_limit(api="getcallbackip", per_minute=3, block=40)
    assert ip_codes(client, token, 5) == [0, 0, 0, 45009, 45009]
    clock.advance(39.9)
    assert ip_codes(client, token, 1) == [45009]  # still blocked
    clock.advance(0.1)
    assert ip_codes(client, token, 1) == [0]
    body = client.get("user/get", params={"access_token": token, "userid": "lisi"}).json()
    assert body["errcode"] == 0  # each API counts on its own


def test_rate_limit_default_block_is_60_seconds() -> None:
    limit = RateLimit.from_dict({"api": "message/send", "per_minute": 10})
    assert (limit.window, limit.block) == (60.0, 60.0)


def test_rate_limit_45009_body_keeps_api_defaults(
    wecom_mock: MockWeComServer, client: httpx.Client
) -> None:
    wecom_mock.add_rate_limit(RateLimit(api="user/get", per_minute=0))
    body = client.get("user/get", params={"access_token": "whatever", "userid": "x"}).json()
    assert body["errcode"] == 45009
    assert body["department"] == []
    assert body["errmsg"].startswith("api freq out of limit, hint: [")


def test_concurrency_limit_45033() -> None:
    with MockWeComServer() as mock, httpx.Client(base_url=mock.api_base_url, timeout=30) as c:
        token = mock.access_token()
        mock.add_rate_limit(api="getcallbackip", max_concurrent=2)
        mock.inject(api="getcallbackip", hang=600, calls=[1, 2])  # two calls hold both slots

        def hold() -> None:
            with pytest.raises(httpx.RemoteProtocolError):  # released by stop() below
                ip_codes(c, token, 1)

        held = [threading.Thread(target=hold) for _ in range(2)]
        for thread in held:
            thread.start()
        held_calls = poll(lambda: mock.calls("getcallbackip"), lambda c: len(c) == 2, 30, 0.01)
        assert len(held_calls) == 2
        assert ip_codes(c, token, 4) == [45033] * 4
        mock.stop()  # releases the two held calls
        for thread in held:
            thread.join(timeout=30)


def test_concurrency_slots_are_given_back() -> None:
    limiter = RateLimiter(ManualClock())
    limiter.add(RateLimit(api="getcallbackip", max_concurrent=2))
    with limiter.admit("getcallbackip") as first, limiter.admit("getcallbackip") as second:
        assert (first, second) == (None, None)
        with limiter.admit("getcallbackip") as third:
            assert third == 45033
        with limiter.admit("user/get") as other:
            assert other is None  # another API is not limited
    with limiter.admit("getcallbackip") as again:
        assert again is None


def test_tokens_expiring_early() -> None:
    scenario = Scenario.from_dict({"tokens": {"lifetime": 20}})
    clock = ManualClock()
    with (
        MockWeComServer(scenario=scenario, clock=clock) as mock,
        httpx.Client(base_url=mock.api_base_url) as c,
    ):
        params = {"corpid": mock.corp_id, "corpsecret": mock.corp_secret}
        issued = c.get("gettoken", params=params).json()
        assert issued["expires_in"] == 7200  # WeCom still says two hours...
        clock.advance(19.9)
        assert ip_codes(c, issued["access_token"], 1) == [0]
        clock.advance(0.1)
        assert ip_codes(c, issued["access_token"], 1) == [42001]  # ...but it died early
        renewed = c.get("gettoken", params=params).json()["access_token"]
        assert renewed != issued["access_token"]


def test_tokens_invalidated_at_scheduled_times_as_40014() -> None:
    scenario = {"tokens": {"expire_at": [20], "expired_errcode": 40014}}
    clock = ManualClock()
    with (
        MockWeComServer(scenario=scenario, clock=clock) as mock,
        httpx.Client(base_url=mock.api_base_url) as c,
    ):
        token = mock.access_token()
        clock.advance(19.9)
        assert ip_codes(c, token, 1) == [0]
        clock.advance(0.1)
        assert ip_codes(c, token, 1) == [40014]
        fresh = mock.access_token()
        assert fresh != token
        assert ip_codes(c, fresh, 1) == [0]


def test_clear_remove_and_reset(wecom_mock: MockWeComServer, client: httpx.Client) -> None:
    token = wecom_mock.access_token()
    fault_id = wecom_mock.inject(api="getcallbackip", errcode=-1)
    assert wecom_mock.remove_fault(fault_id)
    assert not wecom_mock.remove_fault(fault_id)
    wecom_mock.inject(api="getcallbackip", errcode=-1)
    wecom_mock.add_rate_limit(api="*", per_minute=100)
    assert len(wecom_mock.describe_faults()["faults"]) == 1
    wecom_mock.clear_faults()
    assert wecom_mock.describe_faults()["faults"] == []
    assert wecom_mock.describe_faults()["rate_limits"] == []
    assert ip_codes(client, token, 1) == [0]
    wecom_mock.reset()
    assert wecom_mock.calls() == []
    assert ip_codes(client, token, 1) == [40014]  # tokens are forgotten too

"""Concurrency: 100+ simultaneous calls, each answered, all logged."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from opentelemetry.instrumentation.wecom.testing import MockWeComServer


def test_100_parallel_calls_on_separate_connections(wecom_mock: MockWeComServer) -> None:
    token = wecom_mock.access_token()
    wecom_mock.inject(api="message/send", latency=0.2)  # keep them all in flight together
    barrier = threading.Barrier(100)
    body = {
        "touser": "zhangsan|ghost",
        "msgtype": "text",
        "agentid": wecom_mock.agent_id,
        "text": {"content": "load"},
    }

    def call(_: int) -> int:
        with httpx.Client(base_url=wecom_mock.api_base_url, timeout=60) as c:
            barrier.wait(timeout=60)
            reply = c.post("message/send", params={"access_token": token}, json=body)
            errcode: int = reply.json()["errcode"]
            return errcode

    with ThreadPoolExecutor(100) as pool:
        codes = list(pool.map(call, range(100)))
    assert codes == [0] * 100
    assert len(wecom_mock.calls("message/send")) == 100


def test_120_parallel_calls_over_a_shared_keep_alive_pool(wecom_mock: MockWeComServer) -> None:
    token = wecom_mock.access_token()
    limits = httpx.Limits(max_connections=120, max_keepalive_connections=120)
    with httpx.Client(base_url=wecom_mock.api_base_url, timeout=60, limits=limits) as c:

        def call(i: int) -> int:
            reply = c.get(
                "user/get", params={"access_token": token, "userid": "lisi" if i % 2 else "ghost"}
            )
            errcode: int = reply.json()["errcode"]
            return errcode

        with ThreadPoolExecutor(120) as pool:
            codes = list(pool.map(call, range(360)))
    assert codes.count(0) == 180
    assert codes.count(60111) == 180

"""The mock discards messages over WeCom's per-member limits silently, and reports it."""

from __future__ import annotations

from typing import Any

import httpx

from opentelemetry.instrumentation.wecom.testing import (
    DeliveryCounts,
    ManualClock,
    MockWeComServer,
)
from opentelemetry.instrumentation.wecom.testing.deliveries import DeliveryLedger


def send(client: httpx.Client, token: str, mock: MockWeComServer, **body: Any) -> dict[str, Any]:
    payload = {"msgtype": "text", "agentid": mock.agent_id, "text": {"content": "hi"}, **body}
    reply: dict[str, Any] = client.post(
        "message/send", params={"access_token": token}, json=payload
    ).json()
    return reply


def test_over_30_a_minute_to_one_member_is_discarded_with_errcode_0(
    wecom_mock: MockWeComServer, client: httpx.Client, token: str
) -> None:
    replies = [send(client, token, wecom_mock, touser="zhangsan") for _ in range(35)]
    assert {r["errcode"] for r in replies} == {0}
    assert wecom_mock.deliveries() == DeliveryCounts(30, {"member_per_minute": 5})
    send(client, token, wecom_mock, touser="lisi|ZHANGSAN")
    assert wecom_mock.deliveries() == DeliveryCounts(31, {"member_per_minute": 6})


def test_invalid_and_unlicensed_recipients_get_nothing(
    wecom_mock: MockWeComServer, client: httpx.Client, token: str
) -> None:
    reply = send(client, token, wecom_mock, touser="zhangsan|ghost|qianba")
    assert reply["invaliduser"] == "ghost"
    assert wecom_mock.deliveries() == DeliveryCounts(1, {})


def test_to_all_reaches_every_licensed_member(
    wecom_mock: MockWeComServer, client: httpx.Client, token: str
) -> None:
    send(client, token, wecom_mock, touser="@all")
    assert wecom_mock.deliveries().delivered == len(wecom_mock.directory.users)


def test_app_chats_allow_200_a_minute(
    wecom_mock: MockWeComServer, client: httpx.Client, token: str
) -> None:
    chat = wecom_mock.directory.chats[0]
    body = {"chatid": chat, "msgtype": "text", "text": {"content": "x"}}
    for _ in range(203):
        assert client.post("appchat/send", params={"access_token": token}, json=body).json() == {
            "errcode": 0,
            "errmsg": "ok",
        }
    assert wecom_mock.deliveries() == DeliveryCounts(200, {"appchat_member_per_minute": 3})


def test_admin_endpoint_and_reset(
    wecom_mock: MockWeComServer, client: httpx.Client, token: str
) -> None:
    for _ in range(31):
        send(client, token, wecom_mock, touser="wangwu")
    admin = httpx.get(f"{wecom_mock.base_url}/__admin__/deliveries").json()
    assert admin == {"delivered": 30, "discarded": {"member_per_minute": 1}}
    wecom_mock.reset()
    assert wecom_mock.deliveries() == DeliveryCounts()


def test_the_windows_slide_exactly() -> None:
    clock = ManualClock()
    ledger = DeliveryLedger(clock)
    for _ in range(30):
        ledger.deliver_to_members(1, ["a"])
        clock.advance(1.0)
    ledger.deliver_to_members(1, ["a"])  # t=30: 30 in the last minute
    assert ledger.counts().discarded == {"member_per_minute": 1}
    clock.advance(30.5)  # t=60.5: the one sent at t=0 has left the minute
    ledger.deliver_to_members(1, ["a"])
    assert ledger.counts() == DeliveryCounts(31, {"member_per_minute": 1})


def test_the_hour_limit() -> None:
    clock = ManualClock()
    ledger = DeliveryLedger(clock)
    for _ in range(1000):
        ledger.deliver_to_members(1, ["a"])
        clock.advance(3.0)
    ledger.deliver_to_members(1, ["a"])
    ledger.deliver_to_members(2, ["a"])  # another app: its own windows
    assert ledger.counts() == DeliveryCounts(1001, {"member_per_hour": 1})

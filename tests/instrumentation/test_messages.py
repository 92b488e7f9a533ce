"""Person-times per app and silent discards, compared with what the mock really delivered."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from opentelemetry.instrumentation.wecom import wecom_api
from opentelemetry.instrumentation.wecom._extensions.message import (
    RECIPIENT_KINDS,
    may_list_dropped,
)
from opentelemetry.instrumentation.wecom.testing import MockWeComServer, wechatpy_client
from tests.instrumentation.conftest import Telemetry, attrs


@pytest.fixture
def api(mock: MockWeComServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mock.api_base_url, timeout=5) as client:
        token = client.get(
            "gettoken", params={"corpid": mock.corp_id, "corpsecret": mock.corp_secret}
        ).json()["access_token"]
        client.params = client.params.set("access_token", token)
        yield client


def send(client: httpx.Client, mock: MockWeComServer, **fields: Any) -> dict[str, Any]:
    body = {"msgtype": "text", "agentid": mock.agent_id, "text": {"content": "hi"}, **fields}
    reply: dict[str, Any] = client.post("message/send", json=body).json()
    return reply


def test_silent_discards_match_what_the_mock_discarded(
    instrumented: Telemetry, mock: MockWeComServer, api: httpx.Client
) -> None:
    for _ in range(34):
        assert send(api, mock, touser="zhangsan|lisi")["errcode"] == 0
    truth = mock.deliveries()
    assert truth.discarded == {"member_per_minute": 8}  # 4 too many for each of two members
    discarded = instrumented.counts(
        "wecom.message.discarded", "wecom.agent_id", "wecom.message.limit"
    )
    assert discarded == {(mock.agent_id, "member_per_minute"): truth.total_discarded}
    sends = instrumented.spans("wecom message/send")
    assert [attrs(s).get("wecom.message.discarded") for s in sends[-5:]] == [None, 2, 2, 2, 2]
    recipients = instrumented.counts(
        "wecom.message.recipients", "wecom.agent_id", "wecom.recipient.kind"
    )
    assert recipients == {(mock.agent_id, "user"): 68}  # person-times sent, discarded or not


def test_wechatpy_sends_count_exact_members_and_skip_dropped_ones(
    instrumented: Telemetry, mock: MockWeComServer
) -> None:
    client = wechatpy_client(mock, timeout=5)
    client.message.send_text(mock.agent_id, ["zhangsan", "ZhangSan", "ghost", "qianba"], "hi")
    (span,) = instrumented.spans("wecom message/send")
    assert attrs(span)["wecom.message.recipients.user"] == 1  # de-duplicated, minus dropped
    assert attrs(span)["wecom.message.invalid.invaliduser"] == 1
    assert attrs(span)["wecom.message.invalid.unlicenseduser"] == 1
    assert instrumented.counts("wecom.message.recipients", "wecom.recipient.kind") == {("user",): 1}
    assert mock.deliveries().delivered == 1


def test_parties_tags_and_all_are_their_own_kinds(
    instrumented: Telemetry, mock: MockWeComServer, api: httpx.Client
) -> None:
    send(api, mock, toparty="1|2", totag="1")
    send(api, mock, touser="@all")
    assert instrumented.counts("wecom.message.recipients", "wecom.recipient.kind") == {
        ("party",): 2,
        ("tag",): 1,
        ("all",): 1,
    }
    first, second = instrumented.spans("wecom message/send")
    assert attrs(first)["wecom.message.recipients.party"] == 2
    assert attrs(second)["wecom.message.recipients.all"] == 1


def test_refused_messages_spend_nothing(
    instrumented: Telemetry, mock: MockWeComServer, api: httpx.Client
) -> None:
    mock.inject(api="message/send", errcode=45009, calls=[1])
    send(api, mock, touser="zhangsan")  # 45009
    send(api, mock, touser="ghost")  # 81013: nobody valid
    assert instrumented.counts("wecom.message.recipients", "wecom.recipient.kind") == {}
    assert instrumented.counts("wecom.message.invalid_recipients", "wecom.recipient.kind") == {
        ("invaliduser",): 1
    }


def test_app_chats_are_tracked_per_chat(
    instrumented: Telemetry, mock: MockWeComServer, api: httpx.Client
) -> None:
    chat = mock.directory.chats[0]
    for _ in range(202):
        api.post("appchat/send", json={"chatid": chat, "msgtype": "text", "text": {"content": "x"}})
    assert mock.deliveries().discarded == {"appchat_member_per_minute": 2}
    assert instrumented.counts(
        "wecom.message.discarded",
        "wecom.api",
        "wecom.agent_id",
        "wecom.message.limit",
    ) == {("appchat/send", None, "appchat_member_per_minute"): 2}


def test_sampled_out_sends_are_counted_alike(mock: MockWeComServer) -> None:
    telemetry = Telemetry(sampler=ALWAYS_OFF)
    with telemetry.instrumenting(hosts=[mock.host]):
        client = wechatpy_client(mock, timeout=5)
        for _ in range(31):
            client.message.send_text(mock.agent_id, ["wangwu", "ghost"], "hi")
    assert telemetry.wecom_spans() == []
    assert telemetry.counts("wecom.message.recipients", "wecom.recipient.kind") == {("user",): 31}
    assert telemetry.counts("wecom.message.discarded", "wecom.message.limit") == {
        ("member_per_minute",): 1
    }
    assert telemetry.counts("wecom.message.invalid_recipients", "wecom.recipient.kind") == {
        ("invaliduser",): 31
    }


def test_a_decorated_send_around_an_instrumented_one_counts_once(
    instrumented: Telemetry, mock: MockWeComServer, api: httpx.Client
) -> None:
    @wecom_api("message/send")
    def notify(user: str) -> dict[str, Any]:
        return send(api, mock, touser=user)

    for _ in range(31):
        notify("zhaoliu")
    assert len(instrumented.spans("wecom message/send")) == 62
    assert instrumented.counts("wecom.message.recipients", "wecom.recipient.kind") == {
        ("user",): 31
    }
    assert instrumented.counts("wecom.message.discarded", "wecom.message.limit") == {
        ("member_per_minute",): 1
    }


def test_member_ids_never_leave_the_process(
    instrumented: Telemetry, mock: MockWeComServer, api: httpx.Client
) -> None:
    for _ in range(31):
        send(api, mock, touser="sunqi|zhaoliu")
    exported = instrumented.dump()
    assert "wecom.message.discarded" in exported
    assert "sunqi" not in exported
    assert "zhaoliu" not in exported


def test_member_tracking_can_be_turned_off(telemetry: Telemetry, mock: MockWeComServer) -> None:
    with telemetry.instrumenting(hosts=[mock.host], max_tracked_members=0):
        client = wechatpy_client(mock, timeout=5)
        for _ in range(31):
            client.message.send_text(mock.agent_id, "lisi", "hi")
    assert telemetry.counts("wecom.message.discarded", "wecom.message.limit") == {}
    assert telemetry.counts("wecom.message.recipients", "wecom.recipient.kind") == {("user",): 31}


def test_agent_ids_on_metrics_are_capped() -> None:
    from opentelemetry.instrumentation.wecom._recipients import AgentIds

    agent_ids = AgentIds(limit=3)
    assert [agent_ids.metric_value(n) for n in (1, 2, 3, 4, 1, 5)] == [
        1,
        2,
        3,
        "_OTHER",
        1,
        "_OTHER",
    ]


def test_aiohttp_sends_are_counted_like_the_others(
    instrumented: Telemetry, mock: MockWeComServer
) -> None:
    import asyncio

    import aiohttp

    async def main() -> None:
        async with aiohttp.ClientSession() as session:
            reply = await session.get(
                f"{mock.api_base_url}gettoken",
                params={"corpid": mock.corp_id, "corpsecret": mock.corp_secret},
            )
            token = (await reply.json())["access_token"]
            body = {"touser": "lisi", "msgtype": "text", "agentid": mock.agent_id}
            body["text"] = {"content": "hi"}
            for _ in range(31):
                reply = await session.post(
                    f"{mock.api_base_url}message/send", params={"access_token": token}, json=body
                )
                await reply.json()

    asyncio.run(main())
    assert mock.deliveries().discarded == {"member_per_minute": 1}
    assert instrumented.counts("wecom.message.discarded", "wecom.message.limit") == {
        ("member_per_minute",): 1
    }
    assert instrumented.counts("wecom.message.recipients", "wecom.recipient.kind") == {
        ("user",): 31
    }


@pytest.mark.parametrize(
    ("body", "parsed"),
    [
        (b'{"errcode":0,"errmsg":"ok","msgid":"m1"}', False),
        (b'{"errcode":0,"errmsg":"ok","invaliduser":""}', False),  # WeCom's long-time success
        (b'{"errcode": 0, "invaliduser" : "", "unlicenseduser": "", "msgid": "m1"}', False),
        (b'{"errcode":0,"invaliduser":"a|b"}', True),
        (b'{"errcode":0,"invaliduser":"","invalidparty":"2"}', True),
        (b'{"errcode":0,"invaliduser":"","invaliduser":"a"}', True),  # the last one wins
        (b'{"errcode":0,"invaliduser":null}', True),
        (b'{"errcode":0,"invalid\\u0075ser":"a"}', True),  # an escaped key is left to the parser
        (b'{"errmsg":"\\"invaliduser\\": \\"\\""}', True),
    ],
)
def test_only_responses_that_may_name_dropped_recipients_are_parsed(
    body: bytes, parsed: bool
) -> None:
    assert may_list_dropped(body) is parsed
    names_someone = any(json.loads(body).get(kind) for kind in RECIPIENT_KINDS)
    assert parsed or not names_someone  # skipping the parse never loses a dropped recipient

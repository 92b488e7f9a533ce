"""The delivery chain end to end: a template card sent through the instrumented httpx client to
the WeCom mock, then clicked (WeCom's callback pushed by the simulator to the real app)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.trace import format_span_id

from opentelemetry.instrumentation.wecom.testing import MockWeComServer

from .apps import AGENT_ID
from .conftest import Stack


@pytest.fixture
def mock() -> Iterator[MockWeComServer]:
    with MockWeComServer(seed=1, agent_id=AGENT_ID) as server:
        yield server


@pytest.fixture
def instrumented(stack: Stack, mock: MockWeComServer) -> Iterator[Stack]:
    with stack.telemetry.instrumenting(hosts=[mock.host]):
        yield stack


def send_card(mock: MockWeComServer, task_id: str) -> dict[str, Any]:
    with httpx.Client(base_url=mock.api_base_url) as client:
        token = client.get(
            "gettoken", params={"corpid": mock.corp_id, "corpsecret": mock.corp_secret}
        ).json()["access_token"]
        card = {
            "card_type": "button_interaction",
            "main_title": {"title": "Deploy 42 to production?"},
            "task_id": task_id,
            "button_list": [{"text": "Approve", "key": "approve"}],
        }
        message = {
            "touser": "zhangsan",
            "msgtype": "template_card",
            "agentid": AGENT_ID,
            "template_card": card,
        }
        result: dict[str, Any] = client.post(
            "message/send", params={"access_token": token}, json=message
        ).json()
        return result


def click(stack: Stack, task_id: str) -> None:
    delivery = stack.simulator().push_event(
        "template_card_event",
        EventKey="approve",
        TaskId=task_id,
        CardType="button_interaction",
        ResponseCode="one-time-response-code",
    )
    assert delivery.delivered


def test_click_links_to_the_send_and_records_the_delay(
    instrumented: Stack, mock: MockWeComServer
) -> None:
    telemetry = instrumented.telemetry
    before_send = time.monotonic()  # the tracker's default clock
    assert send_card(mock, "deploy-42")["errcode"] == 0
    (send,) = telemetry.wait_for_spans(1, "wecom message/send")
    assert send.attributes is not None
    assert send.attributes["wecom.message.task_id"] == "deploy-42"
    telemetry.reader.get_metrics_data()  # only the callback's points from here on

    click(instrumented, "deploy-42")
    click(instrumented, "deploy-42")  # a card sent to a group is clicked by several members
    callbacks = telemetry.wait_for_spans(2)
    after_clicks = time.monotonic()
    for callback in callbacks:
        (link,) = callback.links
        assert link.context.trace_id == send.context.trace_id
        assert format_span_id(link.context.span_id) == format_span_id(send.context.span_id)
    (delay,) = telemetry.points("wecom.message.callback_delay")
    assert delay.count == 2
    assert dict(delay.attributes) == {
        "wecom.callback.event": "template_card_event",
        "wecom.callback.card_type": "button_interaction",
    }
    # Each click's delay runs from the send to that click: inside what the test saw.
    assert 0 < delay.sum <= 2 * (after_clicks - before_send)


def test_card_sent_elsewhere_gets_no_link_and_no_delay(
    instrumented: Stack, mock: MockWeComServer
) -> None:
    assert send_card(mock, "sent-here")["errcode"] == 0
    click(instrumented, "sent-by-another-process")
    (callback,) = instrumented.telemetry.wait_for_spans(1)
    assert callback.links == ()
    assert instrumented.telemetry.points("wecom.message.callback_delay") == []


def test_without_the_instrumentor_callbacks_are_recorded_unlinked(stack: Stack) -> None:
    click(stack, "deploy-42")
    (callback,) = stack.telemetry.wait_for_spans(1)
    assert callback.links == ()
    assert callback.attributes is not None
    assert callback.attributes["wecom.message.task_id"] == "deploy-42"

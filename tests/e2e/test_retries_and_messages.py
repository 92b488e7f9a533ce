"""Retries, token refreshes, person-times and silent discards through the real collector into
Prometheus: the series, the bundled recording rules and the alerts that fire on them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Callable

import pytest
from wechatpy.exceptions import WeChatClientException

from opentelemetry.instrumentation.wecom.testing import MockWeComServer, wechatpy_client
from tests._support import poll
from tests.e2e.conftest import App, Stack

pytestmark = pytest.mark.e2e

# An agent id no other test sends as: budgets are summed per agent over every job.
AGENT_ID = 4_242_001


@pytest.fixture
def mock() -> Iterator[MockWeComServer]:
    """The mock of this module's apps (make_app instruments it): its own agent id."""
    with MockWeComServer(seed=11, agent_id=AGENT_ID) as server:
        yield server


def _firing(stack: Stack, alertname: str, job: str) -> list[dict[str, str]]:
    return [
        alert["labels"]
        for alert in stack.prometheus.alerts()
        if alert["labels"].get("alertname") == alertname
        and alert["labels"].get("job") == job
        and alert["state"] == "firing"
    ]


def test_retries_and_failing_token_refreshes_reach_prometheus_and_fire(
    stack: Stack, mock: MockWeComServer, make_app: Callable[..., App]
) -> None:
    app = make_app("retries")
    client = wechatpy_client(mock, timeout=5)
    client.user.get("lisi")  # the first token: a proactive refresh
    mock.expire_tokens()
    client.user.get("lisi")  # 42001 -> gettoken -> retried: one chain without an app span
    mock.inject(api="gettoken", errcode=40001, calls=[3, 4, 5, 6])
    mock.expire_tokens()
    for _ in range(4):  # 42001 -> gettoken 40001 -> raised; the cached token stays the dead one
        with pytest.raises(WeChatClientException):
            client.user.get("lisi")
    app.flush()
    job = f'job="{app.service}"'

    retries = poll(
        lambda: stack.prometheus.values(
            f"sum by (wecom_api, wecom_retry_reason) (wecom_client_retries_total{{{job}}})",
            "wecom_api",
            "wecom_retry_reason",
        ),
        lambda found: found == {("user/get", "42001"): 4.0, ("gettoken", "40001"): 3.0},
        timeout=30,
    )
    assert retries == {("user/get", "42001"): 4.0, ("gettoken", "40001"): 3.0}
    refreshes = stack.prometheus.values(
        "sum by (wecom_token_refresh_reason, wecom_status, error_type) "
        f"(wecom_token_refreshes_total{{{job}}})",
        "wecom_token_refresh_reason",
        "wecom_status",
        "error_type",
    )
    assert refreshes == {
        ("proactive", "ok", ""): 1.0,
        ("42001", "ok", ""): 1.0,
        ("42001", "business_error", "40001"): 4.0,
    }

    # The bundled recording rule and alert: more than 3 failed refreshes in 10 minutes.
    firing = poll(
        lambda: _firing(stack, "WeComTokenRefreshFailing", app.service),
        bool,
        timeout=30,
    )
    assert firing == [
        {"alertname": "WeComTokenRefreshFailing", "job": app.service, "severity": "critical"}
    ]
    recorded = stack.prometheus.values(
        f'wecom_token:refreshes:increase10m{{{job},wecom_status!="ok"}}',
        "wecom_token_refresh_reason",
        "error_type",
    )
    assert recorded == {("42001", "40001"): 4.0}
    # rate() needs two samples of the series: poll until the recording rule has them.
    reasons = poll(
        lambda: {
            sample["metric"]["wecom_retry_reason"]
            for sample in stack.prometheus.query(f"wecom_api_reason:retries:rate5m{{{job}}}")
        },
        lambda found: found == {"42001", "40001"},
        timeout=30,
    )
    assert reasons == {"42001", "40001"}


def test_person_times_and_silent_discards_reach_prometheus_and_fire(
    stack: Stack, mock: MockWeComServer, make_app: Callable[..., App]
) -> None:
    app = make_app("messages")
    client = wechatpy_client(mock, timeout=5)
    for _ in range(35):  # 30 a minute to one member: WeCom discards 5 of zhangsan's, silently
        client.message.send_text(AGENT_ID, ["zhangsan", "lisi", "ghost"], "deploy finished")
    client.message.send_text(AGENT_ID, [], "all hands", party_ids=["1", "2"])
    app.flush()
    truth = mock.deliveries()
    assert truth.discarded == {"member_per_minute": 10}
    job = f'job="{app.service}"'

    discarded = poll(
        lambda: stack.prometheus.values(
            f"wecom_message_discarded_total{{{job}}}", "wecom_agent_id", "wecom_message_limit"
        ),
        lambda found: sum(found.values()) == truth.total_discarded,
        timeout=30,
    )
    assert discarded == {(str(AGENT_ID), "member_per_minute"): 10.0}
    person_times = stack.prometheus.values(
        f"wecom_message_recipients_total{{{job}}}", "wecom_recipient_kind"
    )
    assert person_times == {("user",): 70.0, ("party",): 2.0}  # ghost is invalid: not counted

    firing = poll(lambda: _firing(stack, "WeComMessagesDiscarded", app.service), bool, timeout=30)
    assert firing == [
        {
            "alertname": "WeComMessagesDiscarded",
            "job": app.service,
            "severity": "warning",
            "wecom_agent_id": str(AGENT_ID),
            "wecom_message_limit": "member_per_minute",
        }
    ]

    # The daily budget rules: 70 of 1000 x 200 person-times (the bundled account limit).
    budget = f'wecom_agent_id="{AGENT_ID}"'
    used = poll(
        lambda: stack.prometheus.values(f"wecom_agent:person_times:increase24h{{{budget}}}"),
        lambda found: found == {(): 70.0},
        timeout=30,
    )
    assert used == {(): 70.0}
    ratio = stack.prometheus.values(f"wecom_agent:person_times_budget:ratio{{{budget}}}")
    assert ratio == {(): pytest.approx(70 / 200_000)}
    assert stack.prometheus.values("wecom:person_times_budget:1d") == {(): 200_000.0}

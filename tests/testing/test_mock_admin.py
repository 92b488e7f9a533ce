"""The /__admin__/ endpoint: run-time faults, call log, resets, over plain HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from opentelemetry.instrumentation.wecom.testing import MockWeComServer


@pytest.fixture
def admin(wecom_mock: MockWeComServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=wecom_mock.base_url + "/__admin__/", timeout=5) as c:
        yield c


def test_health(admin: httpx.Client) -> None:
    assert admin.get("health").json() == {"status": "ok"}


def test_post_fault_then_list_and_delete(
    wecom_mock: MockWeComServer, admin: httpx.Client, client: httpx.Client
) -> None:
    created = admin.post("faults", json={"api": "gettoken", "errcode": -1, "times": 1})
    assert created.status_code == 200
    (fault_id,) = created.json()["ids"]
    assert client.get("gettoken").json()["errcode"] == -1
    listed = admin.get("faults").json()
    assert listed["faults"] == [
        {"id": fault_id, "fired": 1, "api": "gettoken", "errcode": -1, "times": 1}
    ]
    assert admin.delete(f"faults/{fault_id}").json() == {"removed": True}
    assert admin.delete(f"faults/{fault_id}").status_code == 404


def test_post_list_and_scenario_fragment(
    wecom_mock: MockWeComServer, admin: httpx.Client, client: httpx.Client
) -> None:
    ids = admin.post(
        "faults", json=[{"api": "a", "errcode": 1}, {"api": "b", "reset": True}]
    ).json()["ids"]
    assert len(ids) == 2
    fragment = {
        "faults": [{"api": "getcallbackip", "errcode": 60020}],
        "rate_limits": [{"api": "user/get", "per_minute": 1}],
    }
    assert len(admin.post("faults", json=fragment).json()["ids"]) == 1
    state = admin.get("faults").json()
    assert len(state["faults"]) == 3
    assert state["rate_limits"] == [
        {"api": "user/get", "per_minute": 1, "window": 60.0, "block": 60.0}
    ]
    assert admin.delete("faults").json() == {"status": "ok"}
    assert admin.get("faults").json()["faults"] == []


def test_rate_limit_endpoint(
    wecom_mock: MockWeComServer, admin: httpx.Client, client: httpx.Client
) -> None:
    admin.post("rate-limits", json={"api": "gettoken", "per_minute": 1})
    codes = [client.get("gettoken").json()["errcode"] for _ in range(2)]
    assert codes == [41004, 45009]


def test_bad_fault_is_a_400_naming_the_problem(admin: httpx.Client) -> None:
    reply = admin.post("faults", json={"api": "x", "errcode": "soon"})
    assert reply.status_code == 400
    assert reply.json()["error"] == "fault.errcode: expected an integer, got str 'soon'"
    broken = admin.post("faults", content=b"{nope")
    assert broken.status_code == 400
    assert broken.json()["error"].startswith("invalid JSON body")
    assert admin.post("faults", json=3).status_code == 400
    assert admin.post("faults", content=b"\xff\xfe").status_code == 400
    tokens = admin.post("faults", json={"faults": [], "tokens": {"lifetime": 1}})
    assert tokens.status_code == 400
    assert "unknown key(s) tokens" in tokens.json()["error"]


def test_calls_are_masked_and_filterable(
    wecom_mock: MockWeComServer, admin: httpx.Client, client: httpx.Client, token: str
) -> None:
    client.get("user/get", params={"access_token": token, "userid": "lisi"})
    calls = admin.get("calls").json()["calls"]
    assert [c["api"] for c in calls] == ["gettoken", "user/get"]
    assert calls[0]["query"]["corpsecret"] == "REDACTED"
    assert calls[1]["query"] == {"access_token": "REDACTED", "userid": "lisi"}
    assert set(calls[1]) >= {"api", "method", "query", "status", "errcode", "timestamp"}
    text = admin.get("calls").text
    assert token not in text
    assert wecom_mock.corp_secret not in text
    assert [c["api"] for c in admin.get("calls", params={"api": "user/get"}).json()["calls"]] == [
        "user/get"
    ]
    admin.delete("calls")
    assert admin.get("calls").json()["calls"] == []


def test_expire_tokens_and_reset(
    wecom_mock: MockWeComServer, admin: httpx.Client, client: httpx.Client, token: str
) -> None:
    admin.post("expire-tokens")
    assert client.get("getcallbackip", params={"access_token": token}).json()["errcode"] == 42001
    admin.post("faults", json={"api": "*", "errcode": -1})
    admin.post("reset")
    assert wecom_mock.calls() == []
    assert admin.get("faults").json()["faults"] == []


def test_load_scenario_replaces_everything(admin: httpx.Client, client: httpx.Client) -> None:
    admin.post("faults", json={"api": "gettoken", "errcode": -1})
    scenario = {"name": "s", "faults": [{"api": "gettoken", "http_status": 503}]}
    assert admin.post("scenario", json=scenario).json() == {"status": "ok"}
    assert client.get("gettoken").status_code == 503
    assert len(admin.get("faults").json()["faults"]) == 1


def test_admin_calls_are_not_logged_and_unknown_routes_404(
    wecom_mock: MockWeComServer, admin: httpx.Client
) -> None:
    admin.get("health")
    reply = admin.get("nothing-here")
    assert reply.status_code == 404
    assert "no admin endpoint GET /__admin__/nothing-here" in reply.json()["error"]
    assert wecom_mock.calls() == []


def test_admin_output_never_contains_secrets(
    wecom_mock: MockWeComServer, admin: httpx.Client, client: httpx.Client
) -> None:
    client.post(
        "webhook/send",
        params={"key": wecom_mock.webhook_key},
        json={"msgtype": "text", "text": {"content": "x"}},
    )
    dumped = json.dumps([admin.get("calls").json(), admin.get("faults").json()])
    assert wecom_mock.webhook_key not in dumped

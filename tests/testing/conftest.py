from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from opentelemetry.instrumentation.wecom.testing import MockWeComServer


@pytest.fixture
def client(wecom_mock: MockWeComServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=wecom_mock.api_base_url, timeout=5) as c:
        yield c


@pytest.fixture
def token(wecom_mock: MockWeComServer, client: httpx.Client) -> str:
    reply = client.get(
        "gettoken", params={"corpid": wecom_mock.corp_id, "corpsecret": wecom_mock.corp_secret}
    )
    value: str = reply.json()["access_token"]
    return value

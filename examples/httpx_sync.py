"""WeCom over httpx (sync): every call becomes a `wecom <api>` span carrying the errcode.

    python examples/httpx_sync.py

Against the mock (the default) the untrusted-IP errcode 60020 is injected into user/get, and
the access token is expired halfway, so you see a 42001, a gettoken, and the retried call.
"""

from __future__ import annotations

from typing import Any

import httpx
from _setup import start_telemetry, wecom, where_the_traces_went


def call(client: httpx.Client, token: str, method: str, api: str, **kwargs: Any) -> dict:
    """One WeCom call; WeCom answers HTTP 200 even on failure, the outcome is the errcode."""
    params = {**kwargs.pop("params", {}), "access_token": token}
    return client.request(method, api, params=params, **kwargs).json()


def main() -> None:
    with wecom() as w:
        if w.mock:
            w.mock.inject(api="user/get", errcode=60020, calls=[1])
        # One line of setup: SDK providers + the WeCom instrumentation of httpx and requests.
        telemetry = start_telemetry("httpx-sync-example", w.hosts)

        with httpx.Client(base_url=w.api_base_url, timeout=10) as client:
            creds = {"corpid": w.corp_id, "corpsecret": w.corp_secret}
            token = client.get("gettoken", params=creds).json()["access_token"]

            message = {
                "touser": "zhangsan|former_employee",  # one recipient left: a partial failure
                "msgtype": "text",
                "agentid": w.agent_id,
                "text": {"content": "Build 42 is green"},
            }
            result = call(client, token, "POST", "message/send", json=message)
            print("message/send ->", result["errcode"], "invaliduser:", result.get("invaliduser"))

            result = call(client, token, "GET", "user/get", params={"userid": "zhangsan"})
            print("user/get     ->", result["errcode"], result["errmsg"][:60])

            if w.mock:
                w.mock.expire_tokens()  # what WeCom does after 7200 s, or on a secret reset
            result = call(client, token, "POST", "message/send", json=message)
            if result["errcode"] == 42001:  # expired: get a new token and retry once
                token = client.get("gettoken", params=creds).json()["access_token"]
                result = call(client, token, "POST", "message/send", json=message)
            print("message/send ->", result["errcode"], "(after the token refresh)")

        telemetry.shutdown()  # flush the spans before exiting
    print(where_the_traces_went())


if __name__ == "__main__":
    main()

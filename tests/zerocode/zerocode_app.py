"""An app with no OpenTelemetry code: run under ``opentelemetry-instrument`` by the tests.

It makes three WeCom calls with httpx and writes what it saw (the access token,
the errcodes, whether WeComInstrumentor is active) as JSON to ZEROCODE_REPORT.
"""

from __future__ import annotations

import json
import os

import httpx

from opentelemetry.instrumentation.wecom import WeComInstrumentor


def main() -> None:
    api = os.environ["WECOM_API_BASE"]
    with httpx.Client() as client:
        token = client.get(
            api + "gettoken",
            params={
                "corpid": os.environ["WECOM_CORP_ID"],
                "corpsecret": os.environ["WECOM_CORP_SECRET"],
            },
        ).json()
        sent = client.post(
            api + "message/send",
            params={"access_token": token["access_token"]},
            json={
                "touser": "zhangsan",
                "msgtype": "text",
                "agentid": 1000002,
                "text": {"content": "hi"},
            },
        ).json()
        rejected = client.get(
            api + "user/get", params={"access_token": "canary-bad-token-5f1d", "userid": "zhangsan"}
        ).json()
    report = {
        "token": token["access_token"],
        "errcodes": [token["errcode"], sent["errcode"], rejected["errcode"]],
        "instrumented": WeComInstrumentor().is_instrumented_by_opentelemetry,
    }
    with open(os.environ["ZEROCODE_REPORT"], "w", encoding="utf-8") as out:
        json.dump(report, out)


if __name__ == "__main__":
    main()

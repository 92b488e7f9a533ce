"""WeCom over httpx.AsyncClient: concurrent sends, each its own `wecom message/send` span.

    python examples/httpx_async.py

Against the mock (the default) message/send allows 5 calls a minute, so a fan-out of 8
notifications trips WeCom's frequency limit: three spans carry errcode 45009 (retryable).
"""

from __future__ import annotations

import asyncio

import httpx
from _setup import start_telemetry, wecom, where_the_traces_went

from opentelemetry import trace

ONCALL = ["zhangsan", "lisi", "wangwu", "zhaoliu", "sunqi", "zhangsan", "lisi", "wangwu"]


async def notify(client: httpx.AsyncClient, token: str, agent_id: int, user: str) -> int:
    message = {"touser": user, "msgtype": "text", "agentid": agent_id, "text": {"content": "P1"}}
    response = await client.post("message/send", params={"access_token": token}, json=message)
    return response.json()["errcode"]


async def main() -> None:
    with wecom(scenario={"rate_limits": [{"api": "message/send", "per_minute": 5}]}) as w:
        telemetry = start_telemetry("httpx-async-example", w.hosts)
        tracer = trace.get_tracer("httpx-async-example")

        async with httpx.AsyncClient(base_url=w.api_base_url, timeout=10) as client:
            creds = {"corpid": w.corp_id, "corpsecret": w.corp_secret}
            token = (await client.get("gettoken", params=creds)).json()["access_token"]
            # A parent span groups the fan-out: one trace with eight message/send children.
            with tracer.start_as_current_span("page on-call"):
                errcodes = await asyncio.gather(
                    *(notify(client, token, w.agent_id, user) for user in ONCALL)
                )
        print("message/send errcodes:", errcodes)

        telemetry.shutdown()
    print(where_the_traces_went())


if __name__ == "__main__":
    asyncio.run(main())

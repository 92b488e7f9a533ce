"""wechatpy 1.8.18 (it uses requests): no code change in the app, its calls become spans.

    python examples/wechatpy_app.py

wechatpy refreshes an expired token by itself: the trace shows the failed call (42001), the
gettoken and the retried call. A business error surfaces as WeChatClientException, and the span
carries the same errcode with its category (here 60111, a userid that does not exist).
"""

from __future__ import annotations

from typing import Any

from _setup import WeCom, start_telemetry, wecom, where_the_traces_went
from wechatpy.exceptions import WeChatClientException

from opentelemetry import trace
from opentelemetry.instrumentation.wecom.testing import wechatpy_client


def make_client(w: WeCom) -> Any:
    """The real WeChatClient, or one whose URLs point at the mock (wechatpy hard-codes qyapi)."""
    if w.mock:
        return wechatpy_client(w.mock)
    from wechatpy.enterprise import WeChatClient

    return WeChatClient(w.corp_id, w.corp_secret)


def main() -> None:
    with wecom() as w:
        telemetry = start_telemetry("wechatpy-example", w.hosts)
        tracer = trace.get_tracer("wechatpy-example")
        client = make_client(w)

        client.message.send_text(w.agent_id, ["zhangsan"], "Good morning")
        if w.mock:
            w.mock.expire_tokens()  # as if 7200 s had passed
        with tracer.start_as_current_span("daily report"):  # one trace for the refresh story
            result = client.message.send_text(w.agent_id, ["zhangsan", "lisi"], "Report ready")
        print("send_text after the token expired ->", result["errcode"])

        try:
            client.user.get("nobody")
        except WeChatClientException as error:
            print("user.get('nobody') ->", error.errcode, error.errmsg[:50])

        if w.mock:
            media_id = w.mock.add_media(b"\xff\xd8\xff" + bytes(2048), "chart.jpg")
            print("media.download ->", len(client.media.download(media_id).content), "bytes")

        telemetry.shutdown()
    print(where_the_traces_went())


if __name__ == "__main__":
    main()

"""`@wecom_api` on a hand-written client whose HTTP library is not instrumented (urllib here;
the same goes for aiohttp or a company SDK), and a parent span grouping one business operation.

    python examples/decorator_client.py

The decorator reads the errcode from what the method returns, or from the `errcode` attribute
of what it raises, and records the span and the `wecom.client.duration` point itself.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any

from _setup import start_telemetry, wecom, where_the_traces_went

from opentelemetry import trace
from opentelemetry.instrumentation.wecom import wecom_api


class WeComError(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeCom error {errcode}: {errmsg}")
        self.errcode = errcode  # the decorator records this on the span


class TinyWeCom:
    """A minimal WeCom client on urllib, one decorated method per API."""

    def __init__(self, api_base_url: str, corp_id: str, corp_secret: str) -> None:
        self._base = api_base_url
        self._creds = {"corpid": corp_id, "corpsecret": corp_secret}
        self._token = ""

    def _call(self, api: str, params: dict[str, Any], body: Any = None) -> dict[str, Any]:
        url = f"{self._base}{api}?{urllib.parse.urlencode(params)}"
        data = None if body is None else json.dumps(body).encode()
        with urllib.request.urlopen(urllib.request.Request(url, data), timeout=10) as response:
            result: dict[str, Any] = json.load(response)
        if result.get("errcode", 0) != 0:
            raise WeComError(result["errcode"], result.get("errmsg", ""))
        return result

    @wecom_api("gettoken")
    def login(self) -> dict[str, Any]:
        result = self._call("gettoken", self._creds)
        self._token = result["access_token"]
        return result

    @wecom_api("user/get")
    def user(self, userid: str) -> dict[str, Any]:
        return self._call("user/get", {"access_token": self._token, "userid": userid})

    @wecom_api("message/send")
    def send_text(self, agent_id: int, users: list[str], text: str) -> dict[str, Any]:
        body = {
            "touser": "|".join(users),
            "msgtype": "text",
            "agentid": agent_id,
            "text": {"content": text},
        }
        return self._call("message/send", {"access_token": self._token}, body)


def main() -> None:
    with wecom() as w:
        telemetry = start_telemetry("decorator-example", w.hosts)
        tracer = trace.get_tracer("decorator-example")
        client = TinyWeCom(w.api_base_url, w.corp_id, w.corp_secret)
        client.login()

        # One business operation, one trace: look the people up, then message those who exist.
        with tracer.start_as_current_span("welcome new hires"):
            found = []
            for userid in ["zhangsan", "newbie_not_synced_yet"]:
                try:
                    found.append(client.user(userid)["userid"])
                except WeComError as error:
                    print(f"user/get {userid} -> {error.errcode}")
            result = client.send_text(w.agent_id, found, "Welcome aboard!")
            print("message/send ->", result["errcode"], "to", found)

        telemetry.shutdown()
    print(where_the_traces_went())


if __name__ == "__main__":
    main()

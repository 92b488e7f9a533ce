"""The hand-written httpx client the demo drives next to wechatpy (``testing.wechatpy_client``).

Neither client knows about OpenTelemetry: ``WeComInstrumentor`` records their calls from below
(httpx's ``Client.send``, requests' ``Session.send``), which is the point of the demo.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx

# WeCom's "this access token is no good any more" errcodes: fetch a new one and retry once.
TOKEN_ERRCODES = frozenset({40014, 42001})


class WeComError(Exception):
    """A WeCom business error; ``errcode`` is what the instrumentation also records."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode


class HttpxWeComClient:
    """A small WeCom client on ``httpx.Client``: token cache, refresh on 42001, JSON results."""

    def __init__(self, api_base_url: str, corp_id: str, corp_secret: str) -> None:
        self._http = httpx.Client(base_url=api_base_url, timeout=10.0)
        self._corp_id = corp_id
        self._corp_secret = corp_secret
        self._token: str | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    def call(self, method: str, api: str, **kwargs: Any) -> dict[str, Any]:
        """Call ``api`` with the cached token; on an expired token, refresh and retry once."""
        token = self._access_token()
        result = self._send(method, api, token, **kwargs)
        if result.get("errcode") in TOKEN_ERRCODES:
            result = self._send(method, api, self._access_token(stale=token), **kwargs)
        if result.get("errcode", 0) != 0:
            raise WeComError(int(result["errcode"]), str(result.get("errmsg", "")))
        return result

    def webhook(self, url: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Post to a group robot (no access token: the robot's ``key`` is in ``url``)."""
        result: dict[str, Any] = self._http.post(url, json=payload).json()
        if result.get("errcode", 0) != 0:
            raise WeComError(int(result["errcode"]), str(result.get("errmsg", "")))
        return result

    def _send(self, method: str, api: str, token: str, **kwargs: Any) -> dict[str, Any]:
        params = {**kwargs.pop("params", {}), "access_token": token}
        response = self._http.request(method, api, params=params, **kwargs)
        body: dict[str, Any] = response.json()
        return body

    def _access_token(self, stale: str | None = None) -> str:
        """The cached token, fetched with gettoken when missing or equal to ``stale``."""
        with self._lock:
            if self._token is None or self._token == stale:
                result = self._http.get(
                    "gettoken", params={"corpid": self._corp_id, "corpsecret": self._corp_secret}
                ).json()
                if result.get("errcode", 0) != 0:
                    raise WeComError(int(result["errcode"]), str(result.get("errmsg", "")))
                self._token = str(result["access_token"])
            return self._token

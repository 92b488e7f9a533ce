"""What the application does per call: one client, one request shape, ``run(n)`` calls.

The client is created once per workload and kept for the whole run (its
keep-alive connections stay warm); configurations are switched underneath it.
The app-side work is the same in every configuration: small JSON responses
are parsed with ``.json()`` as an app would; large and binary bodies are only
read, the strictest denominator for the (c)/(a) ratio.
"""

from __future__ import annotations

import asyncio
import json
from typing import Final, Optional, Protocol

import aiohttp
import httpx
import requests

TOKEN: Final = "ACCESS_TOKEN_0123456789abcdef0123456789abcdef"
MESSAGE: Final = json.dumps(
    {"touser": "zhangsan|lisi", "msgtype": "text", "agentid": 1000002, "text": {"content": "hi"}},
    separators=(",", ":"),
).encode()
_JSON_HEADERS: Final = {"Content-Type": "application/json"}


class Workload(Protocol):
    name: str
    library: str

    def run(self, calls: int) -> None: ...

    def close(self) -> None: ...


def message_send_target() -> str:
    return f"/cgi-bin/message/send?access_token={TOKEN}"


def message_to(members: int) -> bytes:
    """A message/send body to ``members`` distinct members (WeCom allows up to 1,000)."""
    users = "|".join(f"member{n:04d}" for n in range(members))
    payload = {"touser": users, "msgtype": "text", "agentid": 1000002, "text": {"content": "hi"}}
    return json.dumps(payload, separators=(",", ":")).encode()


def canned_transport(body: bytes, content_type: str) -> httpx.MockTransport:
    """An in-memory transport answering ``body`` to every request: no socket, no copy.

    With it, (c) - (a) is the instrumentation's own cost, free of the memory and
    scheduling effects of moving the body through the kernel.
    """
    headers = {"Content-Type": content_type}
    return httpx.MockTransport(lambda request: httpx.Response(200, content=body, headers=headers))


class HttpxWorkload:
    """``httpx.Client`` calls: POST message/send or GET of ``target``, to the server by default."""

    library = "httpx"

    def __init__(
        self,
        name: str,
        port: int,
        target: str,
        *,
        post: bool,
        parse: bool,
        transport: Optional[httpx.BaseTransport] = None,
        body: bytes = MESSAGE,
    ) -> None:
        self.name = name
        self._client = httpx.Client(base_url=f"http://127.0.0.1:{port}", transport=transport)
        self._target = target
        self._post = post
        self._parse = parse
        self._body = body

    def run(self, calls: int) -> None:
        client, target, post, parse = self._client, self._target, self._post, self._parse
        body = self._body
        for _ in range(calls):
            if post:
                response = client.post(target, content=body, headers=_JSON_HEADERS)
            else:
                response = client.get(target)
            response.raise_for_status()
            if parse:
                response.json()
            else:
                _ = response.content

    def close(self) -> None:
        self._client.close()


class RequestsWorkload:
    """``requests.Session`` POSTs to message/send, response parsed."""

    library = "requests"

    def __init__(self, name: str, port: int) -> None:
        self.name = name
        self._session = requests.Session()
        self._url = f"http://127.0.0.1:{port}{message_send_target()}"

    def run(self, calls: int) -> None:
        session, url = self._session, self._url
        for _ in range(calls):
            response = session.post(url, data=MESSAGE, headers=_JSON_HEADERS)
            response.raise_for_status()
            response.json()

    def close(self) -> None:
        self._session.close()


class AiohttpWorkload:
    """``aiohttp.ClientSession`` POSTs to message/send, one after the other, response parsed.

    The stock aiohttp-client instrumentation hooks sessions when they are created, so
    each ``run()`` opens a new session (one connection set-up per round, in every
    configuration alike); one event loop serves the whole run.
    """

    library = "aiohttp"

    def __init__(self, name: str, port: int) -> None:
        self.name = name
        self._loop = asyncio.new_event_loop()
        self._url = f"http://127.0.0.1:{port}{message_send_target()}"

    def run(self, calls: int) -> None:
        self._loop.run_until_complete(self._calls(calls))

    async def _calls(self, calls: int) -> None:
        url = self._url
        async with aiohttp.ClientSession() as session:
            for _ in range(calls):
                async with session.post(url, data=MESSAGE, headers=_JSON_HEADERS) as response:
                    response.raise_for_status()
                    await response.json()

    def close(self) -> None:
        self._loop.close()


class AsyncHttpxWorkload:
    """``httpx.AsyncClient`` POSTs to message/send, all ``calls`` of a round in flight at once.

    One event loop serves the whole run, so ``run()`` measures the calls, not
    loop creation; the pool allows every call its own connection.
    """

    library = "httpx"

    def __init__(self, name: str, port: int, in_flight: int) -> None:
        self.name = name
        self._loop = asyncio.new_event_loop()
        limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
        self._client: Optional[httpx.AsyncClient] = None
        self._base_url = f"http://127.0.0.1:{port}"
        self._limits = limits

    def run(self, calls: int) -> None:
        self._loop.run_until_complete(self._batch(calls))

    async def _batch(self, calls: int) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self._base_url, limits=self._limits, timeout=60.0
            )
        client, target = self._client, message_send_target()

        async def one() -> None:
            response = await client.post(target, content=MESSAGE, headers=_JSON_HEADERS)
            response.raise_for_status()
            response.json()

        await asyncio.gather(*(one() for _ in range(calls)))

    def close(self) -> None:
        if self._client is not None:
            self._loop.run_until_complete(self._client.aclose())
        self._loop.close()


class JunkPathWorkload:
    """GETs to a new, well-formed but unknown API path on every call (a scanner, a bug)."""

    library = "httpx"

    def __init__(self, port: int) -> None:
        self.name = "junk paths"
        self._client = httpx.Client(base_url=f"http://127.0.0.1:{port}")
        self._next = 0

    def run(self, calls: int) -> None:
        client = self._client
        for index in range(self._next, self._next + calls):
            client.get(f"/cgi-bin/junk/path{index}?access_token={TOKEN}").raise_for_status()
        self._next += calls

    def close(self) -> None:
        self._client.close()

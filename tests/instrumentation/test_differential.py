"""The app sees exactly the same thing with and without the instrumentation.

A deterministic loopback server answers canned WeCom-like responses; the same
calls are made bare and instrumented, and everything the app can observe
(status, headers, bytes, parsed JSON, exceptions) is compared.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import aiohttp
import httpx
import pytest
import requests

from .conftest import Telemetry

BINARY = bytes(range(256)) * 2048
RESPONSES: dict[str, tuple[int, str, bytes]] = {
    "/cgi-bin/message/send": (
        200,
        "application/json; charset=UTF-8",
        json.dumps({"errcode": 0, "errmsg": "ok", "invaliduser": "a|b", "msgid": "m"}).encode(),
    ),
    "/cgi-bin/user/get": (
        200,
        "application/json; charset=UTF-8",
        b'{"errcode":42001,"errmsg":"access_token expired, hint: [1], from ip: 1.1.1.1"}',
    ),
    "/cgi-bin/media/get": (200, "image/jpeg", BINARY),
    "/cgi-bin/user/list": (502, "text/html", b"<html><body>502 Bad Gateway</body></html>"),
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        status, content_type, body = RESPONSES.get(
            self.path.split("?")[0], (404, "text/plain", b"")
        )
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def version_string(self) -> str:
        return "canned"

    def date_time_string(self, timestamp: float | None = None) -> str:
        return "Mon, 23 Nov 2026 00:00:00 GMT"

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _seen(response: Any, content: bytes) -> tuple[Any, ...]:
    headers = sorted((k.lower(), v) for k, v in response.headers.items())
    return (response.status_code, headers, content, response.url.__str__())


def _httpx_calls(base: str) -> list[Any]:
    seen: list[Any] = []
    with httpx.Client() as client:
        for path in ("message/send", "user/get", "media/get", "user/list"):
            response = client.post(
                f"{base}/cgi-bin/{path}?access_token=T", json={"msgtype": "text"}
            )
            seen.append(_seen(response, response.content))
            if "json" in response.headers["content-type"]:
                seen.append(response.json())
        with client.stream("GET", f"{base}/cgi-bin/media/get?access_token=T") as streamed:
            seen.append(_seen(streamed, b"".join(streamed.iter_raw(1000))))

    async def main() -> bytes:
        async with httpx.AsyncClient() as client:
            response = await client.get(f"{base}/cgi-bin/user/get?access_token=T")
            return response.content

    seen.append(asyncio.run(main()))
    return seen


def _requests_calls(base: str) -> list[Any]:
    seen: list[Any] = []
    with requests.Session() as session:
        for path in ("message/send", "user/get", "media/get", "user/list"):
            response = session.post(
                f"{base}/cgi-bin/{path}?access_token=T", json={"msgtype": "text"}
            )
            seen.append(
                (
                    response.status_code,
                    sorted(response.headers.items()),
                    response.content,
                    response.url,
                )
            )
            seen.append((response.encoding, response.text[:100]))
        streamed = requests.get(f"{base}/cgi-bin/media/get?access_token=T", stream=True)
        seen.append(b"".join(streamed.iter_content(777)))
        streamed.close()
        lines = requests.get(f"{base}/cgi-bin/message/send", stream=True)
        seen.append(list(lines.iter_lines()))
        lines.close()
    return seen


def _aiohttp_calls(base: str) -> list[Any]:
    async def main() -> list[Any]:
        seen: list[Any] = []
        async with aiohttp.ClientSession() as session:
            for path in ("message/send", "user/get", "media/get", "user/list"):
                url = f"{base}/cgi-bin/{path}"
                params = {"access_token": "T"}
                async with session.post(url, params=params, json={"msgtype": "text"}) as response:
                    headers = sorted(response.headers.items())
                    seen.append(
                        (response.status, headers, await response.read(), str(response.url))
                    )
                    seen.append(
                        (response.get_encoding(), (await response.text(errors="replace"))[:100])
                    )
                    if "json" in response.headers["Content-Type"]:
                        seen.append(await response.json())
            async with session.get(f"{base}/cgi-bin/media/get?access_token=T") as streamed:
                seen.append(b"".join([chunk async for chunk in streamed.content.iter_chunked(777)]))
            async with session.get(f"{base}/cgi-bin/message/send") as lines:
                seen.append([line async for line in lines.content])
            unread = await session.get(f"{base}/cgi-bin/user/get?access_token=T")
            seen.append((unread.status, unread.closed))
            unread.release()
            try:
                await session.get(f"{base}/cgi-bin/user/list", raise_for_status=True)
            except aiohttp.ClientResponseError as error:
                seen.append((type(error), error.status, error.message))
        return seen

    return asyncio.run(main())


def _failures(base: str) -> list[Any]:
    seen: list[Any] = []
    refused = "http://127.0.0.1:9/cgi-bin/gettoken?corpsecret=S"

    async def aiohttp_get() -> None:
        async with aiohttp.ClientSession() as session:
            await session.get(refused)

    for call in (
        lambda: httpx.get(refused),
        lambda: requests.get(refused),
        lambda: asyncio.run(aiohttp_get()),
    ):
        try:
            call()
        except Exception as exception:
            seen.append((type(exception), str(exception)))
    return seen


@pytest.mark.parametrize(
    ("calls", "count"),
    [(_httpx_calls, 6), (_requests_calls, 6), (_aiohttp_calls, 8), (_failures, 3)],
    ids=["httpx", "requests", "aiohttp", "failures"],
)
def test_same_results_with_and_without_instrumentation(
    server: str, telemetry: Telemetry, calls: Callable[[str], list[Any]], count: int
) -> None:
    base = f"http://{server}"
    bare = calls(base)
    with telemetry.instrumenting(hosts=[server, "127.0.0.1:9"]):
        instrumented = calls(base)
    assert instrumented == bare
    # Instrumented for real: one span and one point per call.
    assert len(telemetry.wecom_spans()) == count
    assert telemetry.duration_count() == count

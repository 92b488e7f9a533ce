"""A minimal, fast HTTP/1.1 keep-alive server answering canned WeCom bodies.

Run as ``python -m benchmarks.server``: it listens on 127.0.0.1, prints
``PORT <n>`` on stdout, and exits when its stdin closes (so it never outlives
the harness). It is deliberately not the full mock server: it parses only the
request line and ``Content-Length`` and answers pre-built responses from a
cache, so that the server, running in its own process, is never the bottleneck.

Routes (any path under ``/cgi-bin/``):

- ``media/get``: a 10 MB binary body (``image/jpeg``);
- any other path: a JSON body, ``{"errcode":0,"errmsg":"ok",...}``, padded to
  ``size`` bytes when the query has ``size=N`` (``message/send`` answers
  its own success body);
- ``errcode=N`` in the query turns any route into a WeCom error body.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from types import TracebackType
from typing import Final, Optional
from urllib.parse import parse_qsl, urlsplit

MEDIA_SIZE: Final = 10 * 1024 * 1024
_MEDIA_PATH: Final = "/cgi-bin/media/get"
_CACHE_LIMIT: Final = 50_000
_HEADER_END: Final = b"\r\n\r\n"
_CONTENT_LENGTH: Final = b"\r\ncontent-length:"
_REASONS: Final = {200: b"OK", 400: b"Bad Request"}
_MESSAGE_SENT: Final = (
    b'{"errcode":0,"errmsg":"ok","invaliduser":"","invalidparty":"","invalidtag":"",'
    b'"unlicenseduser":"","msgid":"xCRLdeL0E8ZeyJ8Xx0bVfcDiVv1l4-FZeS5G9y2-6aU"}'
)


def json_body(path: str, size: int, errcode: int = 0) -> bytes:
    """A WeCom-shaped JSON body of about ``size`` bytes (at least the errcode fields).

    Sized bodies are a ``user/list``-style array, ``errcode`` first as WeCom writes it.
    """
    if errcode:
        return json.dumps(
            {
                "errcode": errcode,
                "errmsg": f"invalid credential, hint: [1700000000_1_abcdef], from ip: 127.0.0.1, "
                f"more info at https://open.work.weixin.qq.com/devtool/query?e={errcode}",
            },
            separators=(",", ":"),
        ).encode()
    if not size:
        if path.endswith("/message/send"):
            return _MESSAGE_SENT
        return b'{"errcode":0,"errmsg":"ok"}'
    head = b'{"errcode":0,"errmsg":"ok","userlist":['
    users = []
    used = len(head) + 2
    index = 0
    while used < size:
        user = b'{"userid":"user%06d","name":"Member %06d","department":[1,2],"status":1}' % (
            index,
            index,
        )
        users.append(user)
        used += len(user) + 1
        index += 1
    return head + b",".join(users) + b"]}"


def media_body() -> bytes:
    """10 MB of incompressible-looking bytes, as a JPEG download would be."""
    block = os.urandom(64 * 1024)
    return block * (MEDIA_SIZE // len(block))


def _response(body: bytes, content_type: bytes, status: int = 200) -> bytes:
    head = b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n" % (
        status,
        _REASONS.get(status, b"OK"),
        content_type,
        len(body),
    )
    return head + body


class Responses:
    """Builds and caches the complete response for each request target."""

    def __init__(self) -> None:
        self._cache: dict[bytes, bytes] = {}
        self._media: Optional[bytes] = None

    def for_target(self, target: bytes) -> bytes:
        response = self._cache.get(target)
        if response is None:
            response = self._build(target.decode("latin-1"))
            if len(self._cache) < _CACHE_LIMIT:
                self._cache[target] = response
        return response

    def _build(self, target: str) -> bytes:
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query))
        try:
            errcode = int(query.get("errcode", "0"))
            size = int(query.get("size", "0"))
        except ValueError:
            return _response(b"bad query", b"text/plain", 400)
        if parts.path == _MEDIA_PATH and not errcode:
            if self._media is None:
                self._media = _response(media_body(), b"image/jpeg")
            return self._media
        return _response(json_body(parts.path, size, errcode), b"application/json; charset=UTF-8")


class _Connection(asyncio.Protocol):
    """One keep-alive connection: answers each complete request in order."""

    def __init__(self, responses: Responses) -> None:
        self._responses = responses
        self._buffer = bytearray()
        self._transport: Optional[asyncio.Transport] = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        while True:
            end = buffer.find(_HEADER_END)
            if end < 0:
                return
            head = bytes(buffer[:end])
            total = end + len(_HEADER_END) + _content_length(head)
            if len(buffer) < total:
                return
            del buffer[:total]
            target = head.split(b" ", 2)[1]
            assert self._transport is not None
            self._transport.write(self._responses.for_target(target))


def _content_length(head: bytes) -> int:
    position = head.lower().find(_CONTENT_LENGTH)
    if position < 0:
        return 0
    start = position + len(_CONTENT_LENGTH)
    end = head.find(b"\r\n", start)
    return int(head[start : end if end >= 0 else len(head)])


async def serve(port: int = 0) -> None:
    """Serve until stdin closes, printing the bound port first."""
    loop = asyncio.get_running_loop()
    responses = Responses()
    server = await loop.create_server(
        lambda: _Connection(responses), "127.0.0.1", port, backlog=4096, reuse_address=True
    )
    bound = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"PORT {bound}\n")
    sys.stdout.flush()
    stdin_closed = asyncio.Event()
    threading.Thread(
        target=lambda: (sys.stdin.read(), loop.call_soon_threadsafe(stdin_closed.set)),
        daemon=True,
    ).start()
    async with server:
        await stdin_closed.wait()


class ServerProcess:
    """The server in a child process, for ``with``: started on entry, stopped on exit."""

    def __init__(self) -> None:
        self._process: Optional[subprocess.Popen[str]] = None
        self.port = 0

    def __enter__(self) -> ServerProcess:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line.startswith("PORT "):
            self._stop()
            raise RuntimeError(f"benchmark server did not start: {line!r}")
        self.port = int(line.split()[1])
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self._stop()

    def _stop(self) -> None:
        process = self._process
        if process is None:
            return
        assert process.stdin is not None
        process.stdin.close()  # the server exits when its stdin closes
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
        self._process = None


if __name__ == "__main__":
    asyncio.run(serve())

"""One WeCom callback endpoint, written as a real Flask app and as a real FastAPI app.

Both answer the same way, so one set of tests runs against either: GET answers URL verification
with the decrypted ``echostr``; POST decrypts the pushed event and answers a deterministic
digest of everything it saw (the raw body's length and SHA-256, the event type), so a response
proves the app received the very bytes it was sent. ``/echo`` is an ordinary route.
An event of type ``boom`` makes the handler raise; ``BOOM_MESSAGE`` carries the callback Token,
which must never reach the telemetry.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Callable

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response as FastAPIResponse
from flask import Flask, request
from flask import Response as FlaskResponse
from werkzeug.serving import WSGIRequestHandler, make_server

from opentelemetry.instrumentation.wecom.crypto import WeComCrypto, WeComCryptoError, xml_fields

TOKEN = "QDG6eK"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
CORP_ID = "wx5823bf96d3bd56c7"
AGENT_ID = 218
PATH = "/wecom/callback"
BOOM_MESSAGE = f"handler failed with token={TOKEN} and key {AES_KEY}"
KEYS = {"token": TOKEN, "encoding_aes_key": AES_KEY, "receive_id": CORP_ID}


def answer(method: str, query: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
    """What the app answers (status, body); raises for a ``boom`` event."""
    crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
    signed = (query.get("msg_signature", ""), query.get("timestamp", ""), query.get("nonce", ""))
    try:
        if method == "GET":
            return 200, crypto.verify_url(*signed, query.get("echostr", "")).encode()
        plain = crypto.decrypt_message(body.decode("utf-8", "replace"), *signed)
    except WeComCryptoError as error:
        return 403, f"refused {error.code}".encode()
    fields = xml_fields(plain)
    kind = fields.get("Event") or fields.get("MsgType", "")
    if kind == "boom":
        raise RuntimeError(BOOM_MESSAGE)
    return 200, digest(body, kind)


def digest(body: bytes, kind: str = "") -> bytes:
    return f"{len(body)} {hashlib.sha256(body).hexdigest()} {kind}".encode()


def flask_app() -> Flask:
    app = Flask("wecom-callbacks-test")

    @app.route(PATH, methods=["GET", "POST"])
    def callback() -> FlaskResponse:
        status, body = answer(request.method, request.args, request.get_data())
        return FlaskResponse(body, status=status, content_type="text/plain")

    @app.post("/echo")
    def echo() -> FlaskResponse:
        return FlaskResponse(digest(request.get_data()), content_type="text/plain")

    return app


def fastapi_app() -> FastAPI:
    app = FastAPI()

    # FastAPI reads the annotations at run time: the names are module globals for it.
    @app.api_route(PATH, methods=["GET", "POST"])
    async def callback(request: Request) -> FastAPIResponse:
        body = await request.body()
        status, content = answer(request.method, request.query_params, body)
        return FastAPIResponse(content, status_code=status, media_type="text/plain")

    @app.post("/echo")
    async def echo(request: Request) -> FastAPIResponse:
        return FastAPIResponse(digest(await request.body()), media_type="text/plain")

    return app


@contextmanager
def serve_wsgi(app: Callable[..., Any]) -> Iterator[str]:
    """``app`` on werkzeug's threaded server on loopback; yields its base URL."""

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextmanager
def serve_asgi(app: Callable[..., Any]) -> Iterator[str]:
    """``app`` on uvicorn on loopback; yields its base URL."""

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            thread.join(timeout=0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)

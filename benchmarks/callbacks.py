"""The callback middleware's cost per request, measured in-process.

A WeCom callback reaches the app as a WSGI or ASGI call; here the app is called
directly, with no server and no socket, so (c) - (a) is the middleware's own
cost. The apps are what a real callback endpoint is: a Flask view (WSGI) and a
Starlette route (ASGI) that check the signature, decrypt the event and answer
an empty 200. Three requests: a template-card click push (the middleware reads
the body, checks the signature and decrypts it once more, for its span), the
same push through a middleware given no keys, and an ordinary POST that the
middleware only passes through.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterable
from typing import Any, Callable, Final, Optional
from urllib.parse import urlencode

from flask import Flask, request
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from werkzeug.test import EnvironBuilder

from benchmarks.configurations import Configuration
from benchmarks.sdk import Sdk
from opentelemetry.instrumentation.wecom.callbacks import WeComASGIMiddleware, WeComWSGIMiddleware
from opentelemetry.instrumentation.wecom.crypto import WeComCrypto, cdata

TOKEN: Final = "QDG6eK"
AES_KEY: Final = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
CORP_ID: Final = "wx5823bf96d3bd56c7"
PATH: Final = "/wecom/callback"

BARE: Final = Configuration("a", "bare app")
MIDDLEWARE: Final = Configuration(
    "c", "+ middleware (signature checked, event decrypted)", wecom=True
)
UNVERIFIED: Final = Configuration("u", "+ middleware without keys (unverified)", wecom=True)
PASS_THROUGH: Final = Configuration("p", "+ middleware, ordinary request (passed through)")


class CallbackRequest:
    """One request, built once: method, path, query string and body."""

    def __init__(self, method: str, path: str, query: str, body: bytes) -> None:
        self.method, self.path, self.query, self.body = method, path, query, body

    @classmethod
    def card_click(cls) -> CallbackRequest:
        crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
        fields = (
            f"<ToUserName>{cdata(CORP_ID)}</ToUserName><FromUserName>{cdata('zhangsan')}"
            "</FromUserName><CreateTime>1409659813</CreateTime><MsgType>"
            f"{cdata('event')}</MsgType><Event>{cdata('template_card_event')}</Event><EventKey>"
            f"{cdata('approve')}</EventKey><TaskId>{cdata('deploy-42')}</TaskId><CardType>"
            f"{cdata('button_interaction')}</CardType><ResponseCode>{cdata('RC')}</ResponseCode>"
            "<AgentID>1000002</AgentID>"
        )
        encrypted = crypto.encrypt(f"<xml>{fields}</xml>")
        timestamp, nonce = "1409659813", "1372623149"
        query = urlencode(
            {
                "msg_signature": crypto.signature(timestamp, nonce, encrypted),
                "timestamp": timestamp,
                "nonce": nonce,
            }
        )
        body = (
            f"<xml><ToUserName>{cdata(CORP_ID)}</ToUserName><Encrypt>{cdata(encrypted)}</Encrypt>"
            f"<AgentID>{cdata(1000002)}</AgentID></xml>"
        ).encode()
        return cls("POST", PATH, query, body)

    @classmethod
    def ordinary(cls) -> CallbackRequest:
        return cls("POST", "/notify", "", b'{"user": "wangwu", "text": "Deploy done"}')


def _answer(method: str, query: Any, body: bytes) -> int:
    """The handler of a real callback endpoint: verify, decrypt, answer 200 (403 if forged)."""
    if method != "POST" or "msg_signature" not in query:
        return 200
    crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
    crypto.decrypt_message(
        body.decode(), query["msg_signature"], query["timestamp"], query["nonce"]
    )
    return 200


def flask_app() -> Flask:
    app = Flask("callback-bench")

    @app.post(PATH)
    @app.post("/notify")
    def callback() -> tuple[str, int]:
        return "", _answer(request.method, request.args, request.get_data())

    return app


def starlette_app() -> Starlette:
    async def callback(req: Request) -> Response:
        status = _answer(req.method, req.query_params, await req.body())
        return Response(b"", status_code=status)

    return Starlette(
        routes=[
            Route(PATH, callback, methods=["POST"]),
            Route("/notify", callback, methods=["POST"]),
        ]
    )


def _middleware_options(sdk: Sdk, keys: bool) -> dict[str, Any]:
    options: dict[str, Any] = {
        "tracer_provider": sdk.tracer_provider,
        "meter_provider": sdk.meter_provider,
    }
    if keys:
        options.update(token=TOKEN, encoding_aes_key=AES_KEY, receive_id=CORP_ID)
    return options


class WsgiWorkload:
    """``calls`` requests straight into the WSGI app of the configuration switched in."""

    library = "wsgi"

    def __init__(self, name: str, sdk: Sdk, callback: CallbackRequest) -> None:
        self.name = name
        bare = flask_app()
        self.apps: dict[str, Callable[..., Iterable[bytes]]] = {
            BARE.key: bare.wsgi_app,
            MIDDLEWARE.key: WeComWSGIMiddleware(bare.wsgi_app, **_middleware_options(sdk, True)),
            UNVERIFIED.key: WeComWSGIMiddleware(bare.wsgi_app, **_middleware_options(sdk, False)),
        }
        self.apps[PASS_THROUGH.key] = self.apps[MIDDLEWARE.key]
        self.app = self.apps[BARE.key]
        builder = EnvironBuilder(
            path=callback.path,
            method=callback.method,
            query_string=callback.query,
            data=callback.body,
            content_type="text/xml",
        )
        self._environ = builder.get_environ()
        self._body = callback.body

    def run(self, calls: int) -> None:
        app, template, body = self.app, self._environ, self._body

        def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
            if not status.startswith("200"):
                raise RuntimeError(f"the app answered {status}")

        for _ in range(calls):
            environ = dict(template)
            environ["wsgi.input"] = io.BytesIO(body)
            result = app(environ, start_response)
            try:
                b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()

    def close(self) -> None:
        """Nothing to release."""


class AsgiWorkload:
    """``calls`` requests straight into the ASGI app of the configuration switched in."""

    library = "asgi"

    def __init__(self, name: str, sdk: Sdk, callback: CallbackRequest) -> None:
        self.name = name
        bare = starlette_app()
        self.apps: dict[str, Any] = {
            BARE.key: bare,
            MIDDLEWARE.key: WeComASGIMiddleware(bare, **_middleware_options(sdk, True)),
            UNVERIFIED.key: WeComASGIMiddleware(bare, **_middleware_options(sdk, False)),
        }
        self.apps[PASS_THROUGH.key] = self.apps[MIDDLEWARE.key]
        self.app = self.apps[BARE.key]
        self._loop = asyncio.new_event_loop()
        self._scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": callback.method,
            "scheme": "http",
            "path": callback.path,
            "raw_path": callback.path.encode(),
            "query_string": callback.query.encode(),
            "root_path": "",
            "headers": [
                (b"host", b"127.0.0.1"),
                (b"content-type", b"text/xml"),
                (b"content-length", str(len(callback.body)).encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
        }
        self._body = callback.body

    def run(self, calls: int) -> None:
        self._loop.run_until_complete(self._calls(calls))

    async def _calls(self, calls: int) -> None:
        app, template, body = self.app, self._scope, self._body

        for _ in range(calls):
            message: dict[str, Any] = {"type": "http.request", "body": body, "more_body": False}

            async def receive(message: Optional[dict[str, Any]] = message) -> dict[str, Any]:
                return message or {"type": "http.disconnect"}

            async def send(sent: Any) -> None:
                if sent["type"] == "http.response.start" and sent["status"] != 200:
                    raise RuntimeError(f"the app answered {sent['status']}")

            await app(dict(template), receive, send)

    def close(self) -> None:
        self._loop.close()


class AppSwitch:
    """The :class:`~benchmarks.configurations.Switch` of a callback workload: which app it calls."""

    def __init__(self, workload: Any) -> None:
        self._workload = workload

    def enable(self, config: Configuration, library: str) -> None:
        self._workload.app = self._workload.apps[config.key]

    def disable(self) -> None:
        self._workload.app = self._workload.apps[BARE.key]


def workloads(sdk: Sdk) -> list[tuple[Any, tuple[Configuration, ...]]]:
    """Each workload with the configurations it is compared under."""
    click, ordinary = CallbackRequest.card_click(), CallbackRequest.ordinary()
    return [
        (
            WsgiWorkload("Flask (WSGI): template-card click", sdk, click),
            (BARE, MIDDLEWARE, UNVERIFIED),
        ),
        (WsgiWorkload("Flask (WSGI): ordinary POST", sdk, ordinary), (BARE, PASS_THROUGH)),
        (
            AsgiWorkload("Starlette (ASGI): template-card click", sdk, click),
            (BARE, MIDDLEWARE, UNVERIFIED),
        ),
        (AsgiWorkload("Starlette (ASGI): ordinary POST", sdk, ordinary), (BARE, PASS_THROUGH)),
    ]

"""A Flask app that sends WeCom messages and receives WeCom callbacks (encrypted, WXBizMsgCrypt).

    python examples/web_app.py           # self-test: WeCom's callback simulator drives the app
    python examples/web_app.py --serve   # serve on 127.0.0.1:8000 until Ctrl-C

Routes: GET /wecom/callback answers WeCom's URL verification (decrypts `echostr`), POST
/wecom/callback decrypts a pushed message or event and answers the sender with message/send,
POST /notify {"user": ..., "text": ...} sends a message. Every WeCom call is a span. One line
(`WeComWSGIMiddleware`) makes every callback a `wecom callback <event>` SERVER span too (with the
signature check's outcome), the parent of the `handle callback` span and of the message/send
made while handling it.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

import httpx
from _setup import WeCom, start_telemetry, wecom, where_the_traces_went
from flask import Flask, abort, jsonify, request
from werkzeug.serving import make_server

from opentelemetry import trace
from opentelemetry.instrumentation.wecom.callbacks import WeComWSGIMiddleware
from opentelemetry.instrumentation.wecom.crypto import WeComCrypto, WeComCryptoError, xml_fields
from opentelemetry.instrumentation.wecom.testing import CallbackSimulator

# The app's callback settings in the WeCom admin console (接收消息 → API 接收).
CALLBACK_TOKEN = os.environ.get("WECOM_CALLBACK_TOKEN", "ExampleCallbackToken")
CALLBACK_AES_KEY = os.environ.get(
    "WECOM_CALLBACK_AES_KEY", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
)
tracer = trace.get_tracer("web-app-example")


class Messenger:
    """Sends text messages with a cached access token (refreshed on 42001)."""

    def __init__(self, w: WeCom) -> None:
        self._w = w
        self._http = httpx.Client(base_url=w.api_base_url, timeout=10)
        self._token = ""

    def send_text(self, user: str, text: str) -> dict[str, Any]:
        w = self._w
        message = {
            "touser": user,
            "msgtype": "text",
            "agentid": w.agent_id,
            "text": {"content": text},
        }
        for _ in range(2):
            if not self._token:
                creds = {"corpid": w.corp_id, "corpsecret": w.corp_secret}
                self._token = self._http.get("gettoken", params=creds).json()["access_token"]
            params = {"access_token": self._token}
            result: dict[str, Any] = self._http.post(
                "message/send", params=params, json=message
            ).json()
            if result["errcode"] not in (40014, 42001):
                break
            self._token = ""  # expired: fetch a new one and try again
        return result


def create_app(w: WeCom) -> Flask:
    app = Flask(__name__)
    crypto = WeComCrypto(CALLBACK_TOKEN, CALLBACK_AES_KEY, w.corp_id)
    messenger = Messenger(w)

    def signed() -> tuple[str, str, str]:
        args = request.args
        return args.get("msg_signature", ""), args.get("timestamp", ""), args.get("nonce", "")

    @app.get("/wecom/callback")
    def verify_url() -> str:
        # WeCom checks the URL when you save it: answer the decrypted echostr, nothing else.
        try:
            return crypto.verify_url(*signed(), request.args.get("echostr", ""))
        except WeComCryptoError:
            abort(403)

    @app.post("/wecom/callback")
    def receive() -> str:
        try:
            plain = crypto.decrypt_message(request.get_data(as_text=True), *signed())
        except WeComCryptoError:
            abort(403)
        fields = xml_fields(plain)
        kind = fields.get("Event") or fields.get("MsgType", "unknown")
        with tracer.start_as_current_span(f"handle callback {kind}"):
            # WeCom waits 5 s at most (then retries): real apps queue this work.
            messenger.send_text(fields["FromUserName"], f"Got your {kind}, thanks!")
        return ""  # an empty 200: received, no passive reply

    @app.post("/notify")
    def notify() -> Any:
        body = request.get_json(force=True)
        result = messenger.send_text(body["user"], body["text"])
        return jsonify(errcode=result["errcode"]), 200 if result["errcode"] == 0 else 502

    # One line: every WeCom callback becomes a `wecom callback <event>` SERVER span.
    app.wsgi_app = WeComWSGIMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, token=CALLBACK_TOKEN, encoding_aes_key=CALLBACK_AES_KEY, receive_id=w.corp_id
    )
    return app


def main() -> None:
    serve = "--serve" in sys.argv
    with wecom() as w:
        telemetry = start_telemetry("web-app-example", w.hosts)
        server = make_server("127.0.0.1", 8000 if serve else 0, create_app(w), threaded=True)
        url = f"http://127.0.0.1:{server.server_port}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        print(f"serving on {url} (callback URL: {url}/wecom/callback)")
        try:
            if serve:
                threading.Event().wait()  # until Ctrl-C
            else:
                simulate_wecom(w, url)
        except KeyboardInterrupt:
            pass
        finally:
            server.shutdown()
            telemetry.shutdown()
    print(where_the_traces_went())


def simulate_wecom(w: WeCom, url: str) -> None:
    """What WeCom does: verify the URL, push an encrypted message and an event; then /notify."""
    if w.mock:
        w.mock.inject(api="message/send", errcode=60020, calls=[2])  # one untrusted-IP failure
    wecom_side = CallbackSimulator(
        f"{url}/wecom/callback",
        token=CALLBACK_TOKEN,
        encoding_aes_key=CALLBACK_AES_KEY,
        corp_id=w.corp_id,
        agent_id=w.agent_id,
    )
    print("URL verification ok:", wecom_side.verify_url().ok)
    print("text pushed, delivered:", wecom_side.push_text("hello", from_user="zhangsan").delivered)
    delivered = wecom_side.push_event("click", from_user="lisi", EventKey="oncall").delivered
    print("click event pushed, delivered:", delivered)
    answer = httpx.post(f"{url}/notify", json={"user": "wangwu", "text": "Deploy done"})
    print("POST /notify ->", answer.status_code, answer.json())


if __name__ == "__main__":
    main()

"""CallbackSimulator against a small real receiver that uses wechatpy's crypto."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from wechatpy.enterprise import crypto as wechat_crypto

from opentelemetry.instrumentation.wecom.testing import CallbackSimulator

TOKEN = "QDG6eK"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
CORP_ID = "wx5823bf96d3bd56c7"


@dataclass
class Receiver:
    """The app's callback endpoint: verifies, decrypts, and answers as configured."""

    url: str = ""
    fail_first: int = 0  # answer 500 to this many POSTs first
    delay: float = 0.0  # sleep this long before answering a POST
    reply: str | None = None  # passive reply XML to send back, encrypted
    echo_wrong: bool = False
    received: list[str] = field(default_factory=list)
    posts: int = 0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    crypto = wechat_crypto.WeChatCrypto(TOKEN, AES_KEY, CORP_ID)
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: bytes = b"") -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            q = dict(parse_qsl(urlsplit(self.path).query))
            try:
                plain = crypto.check_signature(
                    q["msg_signature"], q["timestamp"], q["nonce"], q["echostr"]
                )
            except Exception:
                self._answer(403)
                return
            self._answer(200, b"wrong" if state.echo_wrong else plain.encode())

        def do_POST(self) -> None:
            state.posts += 1
            q = dict(parse_qsl(urlsplit(self.path).query))
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if state.delay:
                stop.wait(state.delay)
            if state.posts <= state.fail_first:
                self._answer(500)
                return
            xml = crypto.decrypt_message(
                body.decode(), q["msg_signature"], q["timestamp"], q["nonce"]
            )
            state.received.append(xml)
            answer = (
                crypto.encrypt_message(state.reply, "123", str(int(time.time())))
                if state.reply
                else ""
            )
            self._answer(200, answer.encode())

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/wecom/callback"
    yield state
    stop.set()
    server.shutdown()
    server.server_close()


def simulator(receiver: Receiver, **kwargs: Any) -> CallbackSimulator:
    return CallbackSimulator(
        receiver.url, token=TOKEN, encoding_aes_key=AES_KEY, corp_id=CORP_ID, agent_id=218, **kwargs
    )


def test_url_verification(receiver: Receiver) -> None:
    result = simulator(receiver).verify_url("1616140317555161061")
    assert result.ok
    assert result.attempt.status == 200
    assert result.attempt.body == b"1616140317555161061"


def test_url_verification_fails_on_wrong_echo(receiver: Receiver) -> None:
    receiver.echo_wrong = True
    result = simulator(receiver).verify_url()
    assert not result.ok
    assert result.attempt.status == 200


def test_url_verification_fails_with_wrong_token(receiver: Receiver) -> None:
    wrong = CallbackSimulator(receiver.url, token="nope", encoding_aes_key=AES_KEY, corp_id=CORP_ID)
    result = wrong.verify_url()
    assert not result.ok
    assert result.attempt.status == 403


def test_push_text_is_delivered_once(receiver: Receiver) -> None:
    delivery = simulator(receiver).push_text("hello", from_user="lisi", msg_id=4561255354251345929)
    assert delivery.delivered
    assert len(delivery.attempts) == 1
    assert delivery.reply is None
    (xml,) = receiver.received
    assert "<FromUserName><![CDATA[lisi]]></FromUserName>" in xml
    assert "<Content><![CDATA[hello]]></Content>" in xml
    assert "<MsgId>4561255354251345929</MsgId>" in xml
    assert "<AgentID>218</AgentID>" in xml


def test_push_event_and_passive_reply(receiver: Receiver) -> None:
    receiver.reply = (
        "<xml><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[ack]]></Content></xml>"
    )
    delivery = simulator(receiver).push_event("click", EventKey="menu_1")
    assert delivery.delivered
    assert delivery.reply == receiver.reply
    assert "<Event><![CDATA[click]]></Event>" in receiver.received[0]
    assert "<EventKey><![CDATA[menu_1]]></EventKey>" in receiver.received[0]


def test_non_200_is_retried_up_to_3_tries(receiver: Receiver) -> None:
    receiver.fail_first = 2
    delivery = simulator(receiver).push_text("retry me")
    assert delivery.delivered
    assert [a.status for a in delivery.attempts] == [500, 500, 200]
    assert len(receiver.received) == 1


def test_gives_up_after_3_tries(receiver: Receiver) -> None:
    receiver.fail_first = 10
    delivery = simulator(receiver).push_text("lost")
    assert not delivery.delivered
    assert [a.status for a in delivery.attempts] == [500, 500, 500]
    assert receiver.posts == 3


def test_slow_app_times_out_and_is_retried(receiver: Receiver) -> None:
    receiver.delay = 0.5
    delivery = simulator(receiver, timeout=0.2).push_text("slow")
    assert not delivery.delivered
    assert len(delivery.attempts) == 3
    # Each try ended with the simulator's timeout, not with the app's late answer.
    assert all(a.status is None and a.error and "timed out" in a.error for a in delivery.attempts)


def test_unreachable_app(receiver: Receiver) -> None:
    gone = CallbackSimulator(
        "http://127.0.0.1:9/cb", token=TOKEN, encoding_aes_key=AES_KEY, corp_id=CORP_ID, tries=2
    )
    delivery = gone.push_text("nobody home")
    assert not delivery.delivered
    assert len(delivery.attempts) == 2
    assert delivery.attempts[0].error


def test_defaults_follow_wecom_rules() -> None:
    sim = CallbackSimulator(
        "http://127.0.0.1:1/", token=TOKEN, encoding_aes_key=AES_KEY, corp_id=CORP_ID
    )
    assert (sim.timeout, sim.tries, sim.verify_timeout) == (5.0, 3, 1.0)
    with pytest.raises(ValueError, match="tries"):
        CallbackSimulator(
            "http://x/", token=TOKEN, encoding_aes_key=AES_KEY, corp_id=CORP_ID, tries=0
        )

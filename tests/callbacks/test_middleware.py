"""The callback middleware on real Flask (werkzeug) and FastAPI (uvicorn) apps on loopback,
driven by the package's CallbackSimulator and by hand-built requests."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from . import wire
from .apps import AES_KEY, AGENT_ID, PATH, TOKEN
from .conftest import Stack

OTHER_KEY = "A" * 43


def attributes(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def test_url_verification_is_a_server_span_and_echo_still_works(stack: Stack) -> None:
    verification = stack.simulator().verify_url()
    assert verification.ok, verification.attempt
    (span,) = stack.telemetry.wait_for_spans(1)
    assert span.name == "wecom callback url_verification"
    assert span.kind is SpanKind.SERVER
    assert attributes(span) == {
        "http.request.method": "GET",
        "url.path": PATH,
        "wecom.callback.event": "url_verification",
        "wecom.callback.outcome": "ok",
        "http.response.status_code": 200,
    }
    assert span.status.status_code is StatusCode.UNSET
    dump = stack.telemetry.dump()
    assert verification.expected not in dump  # the echostr plaintext the app answered


def test_template_card_click_carries_its_ids_and_no_member_data(stack: Stack) -> None:
    delivery = stack.simulator().push_event(
        "template_card_event",
        from_user="zhangsan",
        EventKey="approve",
        TaskId="task-2026_12@ops",
        CardType="button_interaction",
        ResponseCode="RESPONSE-CODE-SECRET",
    )
    assert delivery.delivered
    (span,) = stack.telemetry.wait_for_spans(1)
    assert span.name == "wecom callback template_card_event"
    assert attributes(span) == {
        "http.request.method": "POST",
        "url.path": PATH,
        "wecom.callback.event": "template_card_event",
        "wecom.callback.outcome": "ok",
        "wecom.callback.card_type": "button_interaction",
        "wecom.callback.event_key": "approve",
        "wecom.message.task_id": "task-2026_12@ops",
        "wecom.agent_id": AGENT_ID,
        "http.response.status_code": 200,
    }
    dump = stack.telemetry.dump()
    for private in ("zhangsan", "RESPONSE-CODE-SECRET", TOKEN, AES_KEY):
        assert private not in dump


def test_message_and_contact_events_are_named_by_type(stack: Stack) -> None:
    simulator = stack.simulator()
    assert simulator.push_text("hello, this is content").delivered
    assert simulator.push_event("change_contact", ChangeType="update_user", UserID="lisi").delivered
    spans = sorted(stack.telemetry.wait_for_spans(2), key=lambda s: s.start_time or 0)
    assert [s.name for s in spans] == ["wecom callback text", "wecom callback change_contact"]
    assert attributes(spans[1])["wecom.callback.change_type"] == "update_user"
    dump = stack.telemetry.dump()
    assert "hello, this is content" not in dump
    assert "lisi" not in dump


def test_bad_signature_is_an_error_span_and_the_app_still_refuses(stack: Stack) -> None:
    forged = stack.simulator(token="not-the-app-token").push_text("hi")
    assert not forged.delivered
    assert [a.status for a in forged.attempts] == [403, 403, 403]  # WeCom tries 3 times
    spans = stack.telemetry.wait_for_spans(3)
    for span in spans:
        assert span.name == "wecom callback"  # an unverified body is never decrypted
        found = attributes(span)
        assert found["wecom.callback.outcome"] == "bad_signature"
        assert found["wecom.callback.crypto_error"] == -40001
        assert found["wecom.callback.event"] == "_UNKNOWN"
        assert found["error.type"] == "bad_signature"
        assert found["http.response.status_code"] == 403
        assert span.status.status_code is StatusCode.ERROR
    (point,) = stack.telemetry.points("wecom.callback.duration")
    assert point.count == 3
    assert dict(point.attributes) == {
        "wecom.callback.event": "_UNKNOWN",
        "wecom.callback.outcome": "bad_signature",
        "http.response.status_code": 403,
        "error.type": "bad_signature",
    }


@pytest.mark.parametrize(
    ("request_", "outcome", "code"),
    [
        (
            wire.push(wire.event_xml("click"), sealer=wire.crypto(OTHER_KEY)),
            "decrypt_failed",
            -40008,
        ),
        (
            wire.push(wire.event_xml("click"), sealer=wire.crypto(receive_id="ww-other-corp")),
            "wrong_receiver",
            -40005,
        ),
        (wire.signed_post(b"this is not WeCom's XML"), "malformed", -40002),
        (
            wire.signed_post(b'<!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Encrypt>&a;</Encrypt></xml>'),
            "malformed",
            -40002,
        ),
    ],
    ids=["other-aes-key", "other-corp", "not-xml", "doctype"],
)
def test_undecryptable_pushes_record_why(
    stack: Stack, request_: wire.Request, outcome: str, code: int
) -> None:
    assert request_.send(stack.url).status == 403
    (span,) = stack.telemetry.wait_for_spans(1)
    assert attributes(span)["wecom.callback.outcome"] == outcome
    assert attributes(span)["wecom.callback.crypto_error"] == code
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == f"WeCom callback {outcome} ({code})"


def test_one_duration_point_per_callback_by_event_and_outcome(stack: Stack) -> None:
    simulator = stack.simulator()
    for _ in range(3):
        assert simulator.push_event("click", EventKey="menu").delivered
    assert simulator.verify_url().ok
    stack.telemetry.wait_for_spans(4)
    points = {
        tuple(sorted(p.attributes.items())): p.count
        for p in stack.telemetry.points("wecom.callback.duration")
    }
    assert points == {
        (
            ("http.response.status_code", 200),
            ("wecom.callback.event", "click"),
            ("wecom.callback.outcome", "ok"),
        ): 3,
        (
            ("http.response.status_code", 200),
            ("wecom.callback.event", "url_verification"),
            ("wecom.callback.outcome", "ok"),
        ): 1,
    }


def test_handler_exception_is_recorded_scrubbed_and_the_response_unchanged(stack: Stack) -> None:
    boom = wire.push(wire.event_xml("boom"))
    assert boom.send(stack.url) == boom.send(stack.bare_url)
    (span,) = stack.telemetry.wait_for_spans(1)
    assert span.status.status_code is StatusCode.ERROR
    found = attributes(span)
    if stack.framework == "flask":
        # Flask turns the exception into its own 500 inside wsgi_app: the middleware sees a 500.
        assert found["error.type"] == "500"
        assert found["http.response.status_code"] == 500
    else:
        # Starlette re-raises it through the middleware to its outermost error handler.
        assert found["error.type"] == "RuntimeError"
        (event,) = [e for e in span.events if e.name == "exception"]
        assert event.attributes is not None
        assert event.attributes["exception.type"] == "RuntimeError"
        assert "token=REDACTED" in str(event.attributes["exception.message"])
        assert span.start_time is not None
        assert span.end_time is not None
        assert span.start_time <= event.timestamp <= span.end_time
    dump = stack.telemetry.dump()
    assert TOKEN not in dump
    assert AES_KEY not in dump


def requests_to_compare() -> list[wire.Request]:
    event = wire.event_xml("template_card_event", TaskId="t-1", CardType="vote_interaction")
    return [
        wire.verification(),
        wire.push(event),
        wire.push(event, signature="0" * 40),
        wire.push(wire.event_xml("click"), sealer=wire.crypto(OTHER_KEY)),
        wire.signed_post(b"<xml>not a callback</xml>"),
        wire.signed_post(bytes(range(256)) * 1200, "/echo"),  # over max_body_bytes: unread
        wire.Request("GET", f"{PATH}?msg_signature=a&timestamp=1&nonce=2"),  # no echostr
        wire.Request("POST", "/echo?msg_signature=a&timestamp=1&nonce=2", b"not a callback"),
        wire.Request("POST", "/echo", "汉字 body".encode() * 100),
        wire.push(event)._replace(chunk_size=100),  # no Content-Length
        wire.signed_post(bytes(range(256)) * 1200, "/echo")._replace(chunk_size=65536),
    ]


def test_responses_are_byte_identical_with_and_without_the_middleware(stack: Stack) -> None:
    requests = requests_to_compare()
    bare = [r.send(stack.bare_url) for r in requests]
    wrapped = [r.send(stack.url) for r in requests]
    assert wrapped == bare
    assert bare[1].status == 200  # the event really was decrypted by the app
    assert bare[5].body.startswith(b"307200 ")  # the app got the whole oversized body
    assert bare[7].body.startswith(b"14 ")
    # Requests carrying the signature parameters are callbacks, whatever their path; the
    # GET without echostr and the plain /echo are not.
    assert bare[9].status == 200
    assert bare[10].body.startswith(b"307200 ")  # chunked and over the bound: all of it arrived
    spans = stack.telemetry.wait_for_spans(9)
    outcomes = sorted(str(s.attributes["wecom.callback.outcome"]) for s in spans if s.attributes)
    # A chunked body: WSGI gives no length, so it is passed on unread; ASGI reads it (bounded).
    chunked = "unread" if stack.framework == "flask" else "ok"
    expected = [
        *("ok", "ok", "bad_signature", "decrypt_failed", "malformed", "unread", "malformed"),
        "unread",
    ]
    assert outcomes == sorted([*expected, chunked])


def test_ordinary_requests_get_no_span(stack: Stack) -> None:
    answer = wire.Request("POST", "/echo", b"hello").send(stack.url)
    assert answer.status == 200
    assert wire.Request("GET", f"{PATH}?timestamp=1&nonce=2").send(stack.url).status == 403
    assert stack.telemetry.spans() == []

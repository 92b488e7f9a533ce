"""Reading a callback request into facts: the official doc 90968 vectors, bounds, robots' JSON."""

from __future__ import annotations

import json

from opentelemetry.instrumentation.wecom._callbacks.examine import (
    MAX_UNKNOWN_EVENTS,
    EventNamer,
    examine_push,
    examine_verification,
    signed_query,
)
from opentelemetry.instrumentation.wecom.crypto import WeComCrypto

from . import wire

# Official test vector (doc 90968): token, EncodingAESKey and receiveid of apps.py.
GET_QUERY = (
    "msg_signature=5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3&timestamp=1409659589&nonce=263014780"
    "&echostr=P9nAzCzyDtyTWESHep1vC5X9xho%2FqYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp%2B4RPcs8TgAE7OaBO"
    "%2BFZXvnaqQ%3D%3D"
)
POST_QUERY = (
    "msg_signature=477715d11cdb4164915debcba66cb864d751f3e6&timestamp=1409659813&nonce=1372623149"
)
POST_BODY = (
    "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[RypEvHKD8QQKFhvQ"
    "6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYv"
    "uJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+"
    "kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nME"
    "LNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/"
    "uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==]]>"
    "</Encrypt><AgentID><![CDATA[218]]></AgentID></xml>"
)


def test_official_url_verification_vector_checks_out() -> None:
    signed = signed_query(GET_QUERY)
    assert signed is not None
    facts = examine_verification(signed, wire.crypto())
    assert (facts.event, facts.outcome, facts.crypto_error) == ("url_verification", "ok", None)


def test_official_push_vector_is_a_text_message_of_agent_218() -> None:
    signed = signed_query(POST_QUERY)
    assert signed is not None
    facts = examine_push(signed, POST_BODY.encode(), wire.crypto(), EventNamer())
    assert (facts.event, facts.outcome, facts.agent_id) == ("text", "ok", 218)
    assert facts.attributes == {}  # no content, no sender


def test_without_keys_only_the_envelope_is_read() -> None:
    signed = signed_query(POST_QUERY)
    assert signed is not None
    facts = examine_push(signed, POST_BODY.encode(), None, EventNamer())
    assert (facts.event, facts.outcome, facts.agent_id) == ("_UNKNOWN", "unverified", 218)


def test_only_queries_with_all_three_signature_parameters_are_callbacks() -> None:
    assert signed_query("a=1&b=2") is None
    assert signed_query("msg_signature=x&timestamp=1") is None
    assert signed_query("msg_signature=x&timestamp=1&nonces=2") is None
    empty = signed_query("msg_signature=&timestamp=1&nonce=2")  # present: its check will fail
    assert empty is not None
    assert empty.msg_signature == ""
    signed = signed_query("nonce=2&timestamp=1&msg_signature=x&echostr=e%2B")
    assert signed is not None
    assert signed.echostr == "e+"


def test_event_names_are_bounded() -> None:
    namer = EventNamer()
    assert namer.name("template_card_event") == "template_card_event"
    assert namer.name("LOCATION") == "LOCATION"
    new = [namer.name(f"future_event_{i}") for i in range(MAX_UNKNOWN_EVENTS + 5)]
    assert new[:MAX_UNKNOWN_EVENTS] == [f"future_event_{i}" for i in range(MAX_UNKNOWN_EVENTS)]
    assert set(new[MAX_UNKNOWN_EVENTS:]) == {"_OTHER"}
    assert namer.name("future_event_3") == "future_event_3"  # once admitted, always kept
    assert namer.name("click") == "click"  # WeCom's own names are never capped
    assert EventNamer().name("bad name <script>") == "_OTHER"


def test_unknown_card_types_and_odd_task_ids_are_not_recorded_as_they_are() -> None:
    xml = wire.event_xml(
        "template_card_event", TaskId="has space", CardType="brand_new_card", EventKey="k" * 200
    )
    encrypted = wire.crypto().encrypt(xml)
    signed = signed_query("&".join(f"{k}={v}" for k, v in wire.signed_query(encrypted).items()))
    assert signed is not None
    body = f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>".encode()
    facts = examine_push(signed, body, wire.crypto(), EventNamer())
    assert facts.outcome == "ok"
    assert facts.task_id is None
    assert facts.attributes == {
        "wecom.callback.card_type": "_OTHER",
        "wecom.callback.event_key": "k" * 64,
    }


def test_smart_robot_json_callbacks_are_read() -> None:
    robot = WeComCrypto(wire.TOKEN, wire.AES_KEY, "")  # robots seal an empty receive id
    plain = json.dumps({"msgid": "1", "msgtype": "text", "text": {"content": "hi"}})
    encrypted = robot.encrypt(plain)
    signed = signed_query("&".join(f"{k}={v}" for k, v in wire.signed_query(encrypted).items()))
    assert signed is not None
    body = json.dumps({"encrypt": encrypted}).encode()
    facts = examine_push(signed, body, robot, EventNamer())
    assert (facts.event, facts.outcome) == ("text", "ok")

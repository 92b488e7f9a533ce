"""Recipients read from message request bodies, as the SDKs encode them."""

from __future__ import annotations

import json

import pytest

from opentelemetry.instrumentation.wecom._recipients import (
    NO_RECIPIENTS,
    Recipients,
    recipients_of,
)


def encode(payload: dict[str, object], **options: object) -> bytes:
    return json.dumps(payload, **options).encode()  # type: ignore[arg-type]


def test_wechatpy_style_body() -> None:
    body = encode(
        {
            "touser": "zhangsan|LiSi|zhangsan",
            "toparty": "1|2",
            "totag": "",
            "agentid": 1000002,
            "msgtype": "text",
            "text": {"content": "hi"},
        },
        ensure_ascii=False,
    )
    assert recipients_of(body) == Recipients(1000002, ("zhangsan", "lisi"), False, 2, 0, None)


def test_to_all() -> None:
    body = encode({"touser": "@all", "msgtype": "text", "agentid": "7", "text": {"content": "x"}})
    assert recipients_of(body) == Recipients(7, (), True, 0, 0, None)


def test_compact_encoding_and_key_order() -> None:
    body = b'{"msgtype":"text","agentid":5,"text":{"content":"x"},"totag":"3","touser":"a"}'
    assert recipients_of(body) == Recipients(5, ("a",), False, 0, 1, None)


def test_appchat_body() -> None:
    body = encode({"chatid": "CHAT1", "msgtype": "text", "text": {"content": "x"}})
    assert recipients_of(body) == Recipients(None, (), False, 0, 0, "CHAT1")


def test_arrays_fall_back_to_json() -> None:
    body = encode(
        {"touser": ["corp1/zhangsan", "corp1/lisi"], "toparty": ["corp1/1"], "agentid": 3}
    )
    assert recipients_of(body) == Recipients(3, ("corp1/zhangsan", "corp1/lisi"), False, 1, 0, None)


def test_escaped_strings_fall_back_to_json() -> None:
    body = encode({"touser": "zhang\u00e9|li", "agentid": 1}, ensure_ascii=True)
    assert b"\\u" in body
    assert recipients_of(body).users == ("zhang\u00e9", "li")


def test_a_key_name_inside_the_content_does_not_fool_the_scan() -> None:
    body = encode(
        {"msgtype": "text", "text": {"content": "touser"}, "touser": "real", "agentid": 1}
    )
    assert recipients_of(body).users == ("real",)


@pytest.mark.parametrize(
    "body",
    [b"", b"[]", b"not json", b'{"touser": ', b'{"touser": 12}', b"\xff\xfe", b'{"a":1}'],
)
def test_malformed_or_empty_bodies_name_nobody(body: bytes) -> None:
    found = recipients_of(body)
    assert found.users == ()
    assert not found.to_all
    assert found.parties == found.tags == 0


def test_no_recipients_constant() -> None:
    assert recipients_of(b"{}") == NO_RECIPIENTS

"""WXBizMsgCrypt: the official doc 90968 vectors and interop with wechatpy."""

from __future__ import annotations

import pytest
from wechatpy.enterprise import crypto as wechat_crypto

from opentelemetry.instrumentation.wecom.testing import WeComCrypto, WeComCryptoError

TOKEN = "QDG6eK"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
RECEIVE_ID = "wx5823bf96d3bd56c7"

GET_SIGNATURE = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"
GET_TIMESTAMP, GET_NONCE = "1409659589", "263014780"
ECHOSTR = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="

POST_SIGNATURE = "477715d11cdb4164915debcba66cb864d751f3e6"
POST_TIMESTAMP, POST_NONCE = "1409659813", "1372623149"
POST_ENCRYPT = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj"
    "911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06"
    "DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQ"
    "H03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo"
    "6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+q"
    "N+E7Q=="
)
POST_BODY = (
    f"<xml><ToUserName><![CDATA[{RECEIVE_ID}]]></ToUserName>"
    f"<Encrypt><![CDATA[{POST_ENCRYPT}]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>"
)


@pytest.fixture
def crypto() -> WeComCrypto:
    return WeComCrypto(TOKEN, AES_KEY, RECEIVE_ID)


def test_official_url_verification_vector(crypto: WeComCrypto) -> None:
    assert crypto.signature(GET_TIMESTAMP, GET_NONCE, ECHOSTR) == GET_SIGNATURE
    assert (
        crypto.verify_url(GET_SIGNATURE, GET_TIMESTAMP, GET_NONCE, ECHOSTR) == "1616140317555161061"
    )


def test_official_post_vector(crypto: WeComCrypto) -> None:
    assert crypto.signature(POST_TIMESTAMP, POST_NONCE, POST_ENCRYPT) == POST_SIGNATURE
    xml = crypto.decrypt_message(POST_BODY, POST_SIGNATURE, POST_TIMESTAMP, POST_NONCE)
    compact = "".join(xml.split())
    assert compact.startswith(f"<xml><ToUserName><![CDATA[{RECEIVE_ID}]]></ToUserName>")
    assert "<Content><![CDATA[hello]]></Content>" in compact
    assert "<MsgId>4561255354251345929</MsgId>" in compact
    assert "<AgentID>218</AgentID>" in compact


def test_encrypt_round_trip_and_32_byte_padding(crypto: WeComCrypto) -> None:
    import base64

    for size in (0, 1, 11, 12, 13, 100, 1000):
        message = "x" * size
        sealed = crypto.encrypt(message)
        assert len(base64.b64decode(sealed)) % 32 == 0
        assert crypto.decrypt(sealed) == message
    assert crypto.decrypt(crypto.encrypt("中文消息")) == "中文消息"


def test_fixed_random_prefix_is_deterministic(crypto: WeComCrypto) -> None:
    prefix = b"1234567890123456"
    assert crypto.encrypt("hi", random_prefix=prefix) == crypto.encrypt("hi", random_prefix=prefix)
    with pytest.raises(ValueError, match="16 bytes"):
        crypto.encrypt("hi", random_prefix=b"short")


def test_errors_carry_official_codes(crypto: WeComCrypto) -> None:
    with pytest.raises(WeComCryptoError) as bad_signature:
        crypto.verify_url("0" * 40, GET_TIMESTAMP, GET_NONCE, ECHOSTR)
    assert bad_signature.value.code == -40001
    other = WeComCrypto(TOKEN, AES_KEY, "wwsomeoneelse")
    with pytest.raises(WeComCryptoError) as wrong_receiver:
        other.decrypt(ECHOSTR)
    assert wrong_receiver.value.code == -40005
    with pytest.raises(WeComCryptoError) as short_key:
        WeComCrypto(TOKEN, "tooshort", RECEIVE_ID)
    assert short_key.value.code == -40004
    with pytest.raises(WeComCryptoError) as not_base64:
        crypto.decrypt("***")
    assert not_base64.value.code == -40010
    with pytest.raises(WeComCryptoError) as no_encrypt:
        crypto.decrypt_message("<xml><A>1</A></xml>", "s", "1", "2")
    assert no_encrypt.value.code == -40002


def test_interop_with_wechatpy() -> None:
    theirs = wechat_crypto.WeChatCrypto(TOKEN, AES_KEY, RECEIVE_ID)
    ours = WeComCrypto(TOKEN, AES_KEY, RECEIVE_ID)
    # wechatpy reads what we seal...
    envelope = ours.encrypt_message(
        "<xml><Content>ping</Content></xml>", nonce="42", timestamp=1700000000
    )
    from opentelemetry.instrumentation.wecom.crypto import xml_field

    signature = xml_field(envelope, "MsgSignature")
    decrypted = theirs.decrypt_message(envelope, signature, "1700000000", "42")
    assert decrypted == "<xml><Content>ping</Content></xml>"
    # ...and we read what wechatpy seals.
    sealed = theirs.encrypt_message("<xml><Content>pong</Content></xml>", "7", "1700000001")
    their_signature = xml_field(sealed, "MsgSignature")
    assert their_signature is not None
    assert (
        ours.decrypt_message(sealed, their_signature, "1700000001", "7")
        == "<xml><Content>pong</Content></xml>"
    )
    # Both agree on the official URL-verification vector.
    assert (
        theirs.check_signature(GET_SIGNATURE, GET_TIMESTAMP, GET_NONCE, ECHOSTR)
        == "1616140317555161061"
    )

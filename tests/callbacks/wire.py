"""Hand-built WeCom callback requests, identical bytes every time, sent with http.client."""

from __future__ import annotations

import http.client
from typing import NamedTuple, Optional
from urllib.parse import urlencode, urlsplit

from opentelemetry.instrumentation.wecom.crypto import WeComCrypto, cdata

from .apps import AES_KEY, AGENT_ID, CORP_ID, PATH, TOKEN

TIMESTAMP, NONCE = "1409659813", "1372623149"
PREFIX = b"0123456789abcdef"  # a fixed "random" prefix: the same ciphertext every run


class Answer(NamedTuple):
    """What a client sees: status, headers (without the per-response Date/Server), body."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


class Request(NamedTuple):
    method: str
    target: str
    body: Optional[bytes] = None
    chunk_size: int = 0
    """Send the body with chunked transfer encoding (no Content-Length) in chunks this big."""

    def send(self, base_url: str) -> Answer:
        parts = urlsplit(base_url)
        connection = http.client.HTTPConnection(parts.netloc, timeout=10)
        try:
            headers = {"Content-Type": "text/xml"} if self.body is not None else {}
            if self.chunk_size and self.body is not None:
                size, data = self.chunk_size, self.body
                chunks = (data[i : i + size] for i in range(0, len(data), size))
                connection.request(
                    self.method, self.target, body=chunks, headers=headers, encode_chunked=True
                )
            else:
                connection.request(self.method, self.target, body=self.body, headers=headers)
            response = connection.getresponse()
            body = response.read()
            kept = tuple(
                sorted(
                    (name.lower(), value)
                    for name, value in response.getheaders()
                    if name.lower() not in ("date", "server")
                )
            )
            return Answer(response.status, kept, body)
        finally:
            connection.close()


def crypto(encoding_aes_key: str = AES_KEY, receive_id: str = CORP_ID) -> WeComCrypto:
    return WeComCrypto(TOKEN, encoding_aes_key, receive_id)


def event_xml(event: str, **fields: object) -> str:
    items = {
        "ToUserName": CORP_ID,
        "FromUserName": "zhangsan",
        "CreateTime": 1409659813,
        "MsgType": "event",
        "Event": event,
        **fields,
        "AgentID": AGENT_ID,
    }
    inner = "".join(f"<{k}>{v if isinstance(v, int) else cdata(v)}</{k}>" for k, v in items.items())
    return f"<xml>{inner}</xml>"


def signed_query(
    encrypted: str, signature: Optional[str] = None, token_crypto: Optional[WeComCrypto] = None
) -> dict[str, str]:
    signer = token_crypto or crypto()
    return {
        "msg_signature": signature or signer.signature(TIMESTAMP, NONCE, encrypted),
        "timestamp": TIMESTAMP,
        "nonce": NONCE,
    }


def verification(plain: str = "1616140317555161061") -> Request:
    encrypted = crypto().encrypt(plain, random_prefix=PREFIX)
    query = {**signed_query(encrypted), "echostr": encrypted}
    return Request("GET", f"{PATH}?{urlencode(query)}")


def push(
    xml: str,
    *,
    sealer: Optional[WeComCrypto] = None,
    signature: Optional[str] = None,
) -> Request:
    """POST ``xml`` encrypted by ``sealer`` (default: the app's keys), signed with the Token."""
    encrypted = (sealer or crypto()).encrypt(xml, random_prefix=PREFIX)
    body = (
        f"<xml><ToUserName>{cdata(CORP_ID)}</ToUserName><Encrypt>{cdata(encrypted)}</Encrypt>"
        f"<AgentID>{cdata(AGENT_ID)}</AgentID></xml>"
    ).encode()
    return Request("POST", f"{PATH}?{urlencode(signed_query(encrypted, signature))}", body)


def signed_post(body: bytes, path: str = PATH) -> Request:
    """A POST to ``path`` with signature parameters and an arbitrary body."""
    return Request("POST", f"{path}?{urlencode(signed_query('x'))}", body)

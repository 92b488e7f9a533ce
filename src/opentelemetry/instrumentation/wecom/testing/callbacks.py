"""``CallbackSimulator``: WeCom pushing encrypted callbacks to an app's URL.

WeCom's delivery rule (doc 96466): it waits at most 5 s for an answer, tries 3 times in all,
and only HTTP 200 counts as received. URL verification is a GET with ``echostr`` that the app
must answer (within 1 s) with the decrypted plaintext and nothing else.
"""

from __future__ import annotations

import http.client
import random
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from opentelemetry.instrumentation.wecom.crypto import (
    WeComCrypto,
    WeComCryptoError,
    cdata,
    xml_field,
)

PUSH_TIMEOUT = 5.0
PUSH_TRIES = 3
VERIFY_TIMEOUT = 1.0


@dataclass(frozen=True)
class Attempt:
    """One HTTP try: the status (None if none came back), the time it took, the error."""

    status: int | None
    elapsed: float
    body: bytes = b""
    error: str | None = None


@dataclass(frozen=True)
class Delivery:
    """Outcome of one pushed callback; ``reply`` is the decrypted passive reply, if any."""

    delivered: bool
    attempts: tuple[Attempt, ...]
    reply: str | None = None


@dataclass(frozen=True)
class Verification:
    """Outcome of URL verification: ``ok`` when the app echoed exactly ``expected``."""

    ok: bool
    expected: str
    attempt: Attempt


class CallbackSimulator:
    """Sends WeCom-style callbacks to ``url`` for the app (``token``, ``encoding_aes_key``).

    ``corp_id`` is the receiveid sealed into every payload; ``agent_id`` goes in the envelope.
    """

    def __init__(
        self,
        url: str,
        *,
        token: str,
        encoding_aes_key: str,
        corp_id: str,
        agent_id: int = 1000002,
        timeout: float = PUSH_TIMEOUT,
        tries: int = PUSH_TRIES,
        verify_timeout: float = VERIFY_TIMEOUT,
    ) -> None:
        if tries < 1:
            raise ValueError("tries must be >= 1")
        self.url = url
        self.crypto = WeComCrypto(token, encoding_aes_key, corp_id)
        self.corp_id = corp_id
        self.agent_id = agent_id
        self.timeout = timeout
        self.tries = tries
        self.verify_timeout = verify_timeout

    def verify_url(self, echostr: str | None = None) -> Verification:
        """GET ``url`` with an encrypted ``echostr``; the app must answer its plaintext."""
        plain = echostr if echostr is not None else str(random.randrange(10**18, 10**19))
        encrypted = self.crypto.encrypt(plain)
        query = {**self._signed_query(encrypted), "echostr": encrypted}
        attempt = self._send("GET", query, None, self.verify_timeout)
        ok = attempt.status == 200 and attempt.body == plain.encode("utf-8")
        return Verification(ok=ok, expected=plain, attempt=attempt)

    def push(self, message_xml: str) -> Delivery:
        """POST ``message_xml`` encrypted, retrying (up to ``tries`` in all) until HTTP 200."""
        encrypted = self.crypto.encrypt(message_xml)
        query = self._signed_query(encrypted)
        body = (
            f"<xml><ToUserName>{cdata(self.corp_id)}</ToUserName><Encrypt>{cdata(encrypted)}"
            f"</Encrypt><AgentID>{cdata(self.agent_id)}</AgentID></xml>"
        ).encode()
        attempts: list[Attempt] = []
        for _ in range(self.tries):
            attempt = self._send("POST", query, body, self.timeout)
            attempts.append(attempt)
            if attempt.status == 200:
                return Delivery(True, tuple(attempts), self._reply(attempt.body))
        return Delivery(False, tuple(attempts))

    def push_text(
        self, content: str, from_user: str = "zhangsan", msg_id: int | None = None
    ) -> Delivery:
        """A user sent the app a text message."""
        fields = {"Content": content, "MsgId": msg_id or random.randrange(10**18, 10**19)}
        return self.push(self.message_xml("text", from_user, fields))

    def push_event(self, event: str, from_user: str = "zhangsan", **fields: object) -> Delivery:
        """An event, e.g. ``push_event("click", EventKey="menu_1")``."""
        return self.push(self.message_xml("event", from_user, {"Event": event, **fields}))

    def message_xml(self, msg_type: str, from_user: str, fields: dict[str, object]) -> str:
        """The plaintext XML WeCom encrypts: common header fields, then ``fields``."""
        items = {
            "ToUserName": self.corp_id,
            "FromUserName": from_user,
            "CreateTime": int(time.time()),
            "MsgType": msg_type,
            **fields,
            "AgentID": self.agent_id,
        }
        inner = "".join(
            f"<{k}>{v if isinstance(v, int) else cdata(v)}</{k}>" for k, v in items.items()
        )
        return f"<xml>{inner}</xml>"

    def _signed_query(self, encrypted: str) -> dict[str, str]:
        timestamp = str(int(time.time()))
        nonce = str(secrets.randbelow(10**10))
        signature = self.crypto.signature(timestamp, nonce, encrypted)
        return {"msg_signature": signature, "timestamp": timestamp, "nonce": nonce}

    def _reply(self, body: bytes) -> str | None:
        """Decrypt a passive reply; an empty (or unreadable) body means no reply."""
        text = body.decode("utf-8", "replace").strip()
        if not text.startswith("<xml"):
            return None
        try:
            signature = xml_field(text, "MsgSignature")
            timestamp = xml_field(text, "TimeStamp")
            nonce = xml_field(text, "Nonce")
            if signature is None or timestamp is None or nonce is None:
                return None
            return self.crypto.decrypt_message(text, signature, timestamp, nonce)
        except WeComCryptoError:
            return None

    def _send(
        self, method: str, query: dict[str, str], body: bytes | None, timeout: float
    ) -> Attempt:
        parts = urlsplit(self.url)
        target = (parts.path or "/") + "?" + "&".join(filter(None, [parts.query, urlencode(query)]))
        connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_class(parts.netloc, timeout=timeout)
        started = time.monotonic()
        headers = {"Content-Type": "text/xml"} if body is not None else {}
        try:
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            return Attempt(response.status, time.monotonic() - started, data)
        except (OSError, http.client.HTTPException) as exc:
            return Attempt(None, time.monotonic() - started, error=f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

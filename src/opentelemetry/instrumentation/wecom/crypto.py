"""WXBizMsgCrypt, WeCom's callback encryption (doc 91144 / 90968), on ``cryptography``.

``msg_encrypt = Base64(AES-256-CBC(key, iv=key[:16], PKCS#7 to 32 bytes)(random16 + len(msg) as
4 big-endian bytes + msg + receiveid))`` and ``msg_signature = sha1(sorted(token, timestamp,
nonce, msg_encrypt))``.

Used by the callback middleware (to check and decrypt what WeCom pushes) and by the mock's
callback simulator (to push it). A leaf module: it imports nothing else of this package.
``cryptography`` comes with the ``crypto`` extra and is imported only when a cipher is needed;
signatures need only the standard library.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import struct
import time
import xml.etree.ElementTree as ET
from typing import Any, Union

__all__ = [
    "DECODE_BASE64_ERROR",
    "DECRYPT_AES_ERROR",
    "ILLEGAL_AES_KEY",
    "ILLEGAL_BUFFER",
    "PARSE_XML_ERROR",
    "VALIDATE_RECEIVE_ID_ERROR",
    "VALIDATE_SIGNATURE_ERROR",
    "WeComCrypto",
    "WeComCryptoError",
    "cdata",
    "require_cryptography",
    "xml_field",
    "xml_fields",
]

_CDATA = re.compile(r"<!\[CDATA\[.*?\]\]>", re.DOTALL)

BLOCK_SIZE = 32  # WeCom pads to 32 bytes, not AES's 16.

# Return codes of the official WXBizMsgCrypt libraries.
VALIDATE_SIGNATURE_ERROR = -40001
PARSE_XML_ERROR = -40002
ILLEGAL_AES_KEY = -40004
VALIDATE_RECEIVE_ID_ERROR = -40005
DECRYPT_AES_ERROR = -40007
ILLEGAL_BUFFER = -40008
DECODE_BASE64_ERROR = -40010


class WeComCryptoError(Exception):
    """A WXBizMsgCrypt failure; ``code`` is the official error code (e.g. -40001)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{message} ({code})")
        self.code = code


def require_cryptography() -> None:
    """Raise ``ImportError`` with the install line if ``cryptography`` is missing."""
    _cipher(bytes(32))


def _cipher(key: bytes) -> Any:
    try:
        from cryptography.hazmat.primitives.ciphers import (  # noqa: PLC0415 - optional extra
            Cipher,
            algorithms,
            modes,
        )
    except ImportError:
        raise ImportError(
            "WeCom callback crypto needs 'cryptography': "
            "pip install 'opentelemetry-instrumentation-wecom[crypto]'"
        ) from None
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def cdata(value: object) -> str:
    """Wrap ``value`` in CDATA, splitting any ``]]>`` it contains."""
    return "<![CDATA[" + str(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"


class WeComCrypto:
    """Sign, encrypt and decrypt WeCom callback payloads for one app.

    ``receive_id`` is the CorpID for self-built apps (the SuiteId for third-party suites).
    """

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        if len(encoding_aes_key) != 43:
            raise WeComCryptoError(ILLEGAL_AES_KEY, "EncodingAESKey must be 43 characters")
        try:
            self._key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except binascii.Error:
            raise WeComCryptoError(ILLEGAL_AES_KEY, "EncodingAESKey is not base64") from None
        self.token = token
        self.receive_id = receive_id

    def signature(self, timestamp: str, nonce: str, encrypt: str) -> str:
        parts = sorted([self.token, str(timestamp), str(nonce), encrypt])
        return hashlib.sha1("".join(parts).encode("utf-8")).hexdigest()

    def check_signature(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> None:
        expected = self.signature(timestamp, nonce, encrypt)
        if not hmac.compare_digest(expected, msg_signature):
            raise WeComCryptoError(VALIDATE_SIGNATURE_ERROR, "signature mismatch")

    def encrypt(self, plaintext: Union[str, bytes], random_prefix: bytes | None = None) -> str:
        """Base64 ciphertext of ``plaintext`` (``random_prefix``: 16 bytes, for fixed vectors)."""
        data = plaintext.encode("utf-8") if isinstance(plaintext, str) else plaintext
        prefix = os.urandom(16) if random_prefix is None else random_prefix
        if len(prefix) != 16:
            raise ValueError("random_prefix must be 16 bytes")
        raw = prefix + struct.pack(">I", len(data)) + data + self.receive_id.encode("utf-8")
        pad = BLOCK_SIZE - len(raw) % BLOCK_SIZE
        encryptor = _cipher(self._key).encryptor()
        sealed: bytes = encryptor.update(raw + bytes([pad]) * pad) + encryptor.finalize()
        return base64.b64encode(sealed).decode("ascii")

    def decrypt(self, encrypted: str) -> str:
        try:
            sealed = base64.b64decode(encrypted, validate=True)
        except binascii.Error:
            raise WeComCryptoError(DECODE_BASE64_ERROR, "ciphertext is not base64") from None
        if not sealed or len(sealed) % 16:
            raise WeComCryptoError(DECRYPT_AES_ERROR, "ciphertext length is not a block multiple")
        decryptor = _cipher(self._key).decryptor()
        raw: bytes = decryptor.update(sealed) + decryptor.finalize()
        pad = raw[-1]
        if not 1 <= pad <= BLOCK_SIZE or len(raw) < 20 + pad:
            raise WeComCryptoError(ILLEGAL_BUFFER, "bad padding")
        content = raw[16:-pad]
        (length,) = struct.unpack(">I", content[:4])
        if 4 + length > len(content):
            raise WeComCryptoError(ILLEGAL_BUFFER, "message length out of range")
        message, receive_id = content[4 : 4 + length], content[4 + length :]
        if receive_id.decode("utf-8", "replace") != self.receive_id:
            raise WeComCryptoError(VALIDATE_RECEIVE_ID_ERROR, "receive id mismatch")
        return message.decode("utf-8")

    def verify_url(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """What an app does for URL verification: check the signature, return plaintext echostr."""
        self.check_signature(msg_signature, timestamp, nonce, echostr)
        return self.decrypt(echostr)

    def encrypt_message(self, xml: str, nonce: str, timestamp: Union[str, int, None] = None) -> str:
        """The signed ``<xml><Encrypt>…<MsgSignature>…`` envelope (passive replies)."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        encrypted = self.encrypt(xml)
        return (
            f"<xml><Encrypt>{cdata(encrypted)}</Encrypt>"
            f"<MsgSignature>{cdata(self.signature(stamp, nonce, encrypted))}</MsgSignature>"
            f"<TimeStamp>{stamp}</TimeStamp><Nonce>{cdata(nonce)}</Nonce></xml>"
        )

    def decrypt_message(self, xml: str, msg_signature: str, timestamp: str, nonce: str) -> str:
        """Check the signature of a pushed/replied XML body, then decrypt its ``<Encrypt>``."""
        encrypted = xml_field(xml, "Encrypt")
        if encrypted is None:
            raise WeComCryptoError(PARSE_XML_ERROR, "no <Encrypt> element")
        self.check_signature(msg_signature, timestamp, nonce, encrypted)
        return self.decrypt(encrypted)


def xml_field(xml: str, name: str) -> str | None:
    """Text of the top-level element ``name`` of a WeCom XML document, or None."""
    element = _parse_xml(xml).find(name)
    return None if element is None else (element.text or "")


def xml_fields(xml: str) -> dict[str, str]:
    """The text of every top-level element of a WeCom XML document (nested ones: ``""``)."""
    return {child.tag: (child.text or "").strip() for child in _parse_xml(xml)}


def _parse_xml(xml: str) -> ET.Element:
    """Parse a WeCom XML document; document type declarations are refused.

    WeCom never sends a DTD, and refusing them spares the parser entity-expansion attacks
    from anyone who can reach the callback URL (the check runs before the signature's).
    """
    if "<!DOCTYPE" in xml and "<!DOCTYPE" in _CDATA.sub("", xml):
        raise WeComCryptoError(PARSE_XML_ERROR, "XML with a document type declaration")
    try:
        return ET.fromstring(xml)
    except ET.ParseError as exc:
        raise WeComCryptoError(PARSE_XML_ERROR, f"invalid XML: {exc}") from None

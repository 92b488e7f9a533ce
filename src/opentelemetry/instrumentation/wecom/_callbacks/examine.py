"""What a WeCom callback request says, read into bounded, secret-free facts.

WeCom signs every callback with ``msg_signature``, ``timestamp`` and ``nonce`` in the query
string; URL verification is a GET that adds ``echostr``, a push is a POST whose body is the
encrypted envelope ``<xml><ToUserName/><Encrypt/><AgentID/></xml>`` (smart robots send JSON
``{"encrypt": ...}``). With the app's Token and EncodingAESKey the signature is checked and
the event decrypted; without them only the envelope's ``AgentID`` is known.

Only names and ids are kept: the event type, the agent, the change or card type, the
template card's task id and button key. Member ids, message content, the echostr plaintext,
``ResponseCode`` and the signature parameters never leave this module.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Final, NamedTuple, Optional
from urllib.parse import parse_qs

from opentelemetry.util.types import AttributeValue

from opentelemetry.instrumentation.wecom import _attributes as attr
from opentelemetry.instrumentation.wecom.crypto import (
    PARSE_XML_ERROR,
    VALIDATE_RECEIVE_ID_ERROR,
    VALIDATE_SIGNATURE_ERROR,
    WeComCrypto,
    WeComCryptoError,
    xml_fields,
)

_NAME: Final = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_TASK_ID: Final = re.compile(r"[A-Za-z0-9_\-@]{1,128}")  # WeCom's rule for task_id
_EVENT_KEY_MAX_LENGTH: Final = 64
MAX_UNKNOWN_EVENTS: Final = 50

# Message and event types of WeCom's callback documentation (接收消息与事件, 第三方回调).
KNOWN_EVENTS: Final = frozenset(
    {
        # messages
        "text", "image", "voice", "video", "location", "link", "file", "event",
        # events
        "subscribe", "unsubscribe", "enter_agent", "LOCATION", "batch_job_result",
        "change_contact", "click", "view", "view_miniprogram", "scancode_push",
        "scancode_waitmsg", "pic_sysphoto", "pic_photo_or_album", "pic_weixin",
        "location_select", "open_approval_change", "sys_approval_change", "share_agent_change",
        "share_chain_change", "template_card_event", "template_card_menu_event",
        "taskcard_click", "change_external_contact", "change_external_chat",
        "change_external_tag", "kf_msg_or_event", "living_status_change", "msgaudit_notify",
        "close_inactive_agent", "reactivate_agent", "change_app_admin",
        # third-party suite commands (InfoType)
        "suite_ticket", "create_auth", "change_auth", "cancel_auth", "reset_permanent_code",
        # smart robots (JSON)
        "mixed", "stream",
    }
)  # fmt: skip
CARD_TYPES: Final = frozenset(
    {"text_notice", "news_notice", "button_interaction", "vote_interaction", "multiple_interaction"}
)

_OUTCOME_OF_CODE: Final = {
    VALIDATE_SIGNATURE_ERROR: attr.CALLBACK_BAD_SIGNATURE,
    VALIDATE_RECEIVE_ID_ERROR: attr.CALLBACK_WRONG_RECEIVER,
    PARSE_XML_ERROR: attr.CALLBACK_MALFORMED,
}


class SignedQuery(NamedTuple):
    """The signature parameters of a callback request (``echostr`` only for URL verification)."""

    msg_signature: str
    timestamp: str
    nonce: str
    echostr: Optional[str]


class CallbackFacts(NamedTuple):
    """What the middleware knows about a callback before the app sees it."""

    event: str
    """``wecom.callback.event``: bounded, ``_UNKNOWN`` when the event was not decrypted."""
    outcome: str
    crypto_error: Optional[int]
    attributes: dict[str, AttributeValue]
    """Span-only attributes (agent, change/card type, task id, button key)."""
    agent_id: Optional[int]
    task_id: Optional[str]

    @property
    def failed(self) -> bool:
        return self.outcome not in (attr.CALLBACK_OK, attr.CALLBACK_UNVERIFIED)


def signed_query(query: str) -> Optional[SignedQuery]:
    """The signature parameters in ``query``, or None when it is not a WeCom callback."""
    if "msg_signature=" not in query:
        return None  # the common case, decided without parsing
    params = parse_qs(query, keep_blank_values=True)
    signature, timestamp, nonce = (
        params.get(name) for name in ("msg_signature", "timestamp", "nonce")
    )
    if signature is None or timestamp is None or nonce is None:
        return None
    echostr = params.get("echostr")
    return SignedQuery(signature[0], timestamp[0], nonce[0], echostr[0] if echostr else None)


class EventNamer:
    """Bounded ``wecom.callback.event`` values: WeCom's own names always, others up to a cap."""

    def __init__(self, max_unknown: int = MAX_UNKNOWN_EVENTS) -> None:
        self._max_unknown = max_unknown
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def name(self, value: str) -> str:
        if value in KNOWN_EVENTS or value in self._seen:
            return value
        if not _NAME.fullmatch(value):
            return attr.OTHER_API
        with self._lock:
            if value not in self._seen and len(self._seen) >= self._max_unknown:
                return attr.OTHER_API
            self._seen.add(value)
        return value


def examine_verification(signed: SignedQuery, crypto: Optional[WeComCrypto]) -> CallbackFacts:
    """URL verification: check the signature of ``echostr`` and that it decrypts (never kept)."""
    event = attr.CALLBACK_URL_VERIFICATION
    if crypto is None:
        return _facts(event, attr.CALLBACK_UNVERIFIED)
    try:
        crypto.verify_url(
            signed.msg_signature, signed.timestamp, signed.nonce, signed.echostr or ""
        )
    except WeComCryptoError as error:
        return _failed(event, error)
    return _facts(event, attr.CALLBACK_OK)


def examine_push(
    signed: SignedQuery,
    body: Optional[bytes],
    crypto: Optional[WeComCrypto],
    namer: EventNamer,
) -> CallbackFacts:
    """A pushed message or event: the envelope, then (with the keys) the decrypted event."""
    unknown = attr.CALLBACK_UNKNOWN_EVENT
    if body is None:
        return _facts(unknown, attr.CALLBACK_UNREAD)
    try:
        encrypted, envelope_agent = _envelope(body.decode("utf-8"))
    except (UnicodeDecodeError, WeComCryptoError, ValueError):
        encrypted, envelope_agent = None, None
    if encrypted is None:
        return _facts(unknown, attr.CALLBACK_MALFORMED, crypto_error=PARSE_XML_ERROR)
    if crypto is None:
        return _facts(unknown, attr.CALLBACK_UNVERIFIED, agent_id=envelope_agent)
    try:
        crypto.check_signature(signed.msg_signature, signed.timestamp, signed.nonce, encrypted)
        return _describe(_event_fields(crypto.decrypt(encrypted)), namer, envelope_agent)
    except WeComCryptoError as error:
        return _failed(unknown, error, agent_id=envelope_agent)
    except (ValueError, UnicodeError):  # the decrypted event is not XML or JSON
        return _facts(unknown, attr.CALLBACK_MALFORMED, crypto_error=PARSE_XML_ERROR)


def _envelope(text: str) -> tuple[Optional[str], Optional[int]]:
    """The ciphertext and the plaintext ``AgentID`` of the envelope (XML, or JSON for robots)."""
    if text.lstrip().startswith("{"):
        value = json.loads(text)
        encrypted = value.get("encrypt") if isinstance(value, dict) else None
        return (encrypted if isinstance(encrypted, str) else None), None
    fields = xml_fields(text)
    return fields.get("Encrypt"), _int(fields.get("AgentID"))


def _event_fields(plain: str) -> dict[str, str]:
    """The decrypted event's top-level fields; robots' JSON is mapped to the XML names."""
    if not plain.lstrip().startswith("{"):
        return xml_fields(plain)
    value = json.loads(plain)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    fields: dict[str, str] = {}
    msgtype = value.get("msgtype")
    if isinstance(msgtype, str):
        fields["MsgType"] = msgtype
    event = value.get("event")
    if isinstance(event, dict) and isinstance(event.get("eventtype"), str):
        fields["Event"] = event["eventtype"]
    return fields


def _describe(
    fields: dict[str, str], namer: EventNamer, envelope_agent: Optional[int]
) -> CallbackFacts:
    kind = fields.get("Event") or fields.get("MsgType") or fields.get("InfoType") or ""
    event = namer.name(kind) if kind else attr.CALLBACK_UNKNOWN_EVENT
    attributes: dict[str, AttributeValue] = {}
    agent_id = _int(fields.get("AgentID"))
    if agent_id is None:
        agent_id = envelope_agent
    change_type = fields.get("ChangeType")
    if change_type and _NAME.fullmatch(change_type):
        attributes[attr.WECOM_CALLBACK_CHANGE_TYPE] = change_type
    card_type = fields.get("CardType")
    if card_type:
        attributes[attr.WECOM_CALLBACK_CARD_TYPE] = (
            card_type if card_type in CARD_TYPES else attr.OTHER_API
        )
    event_key = fields.get("EventKey")
    if event_key:
        attributes[attr.WECOM_CALLBACK_EVENT_KEY] = event_key[:_EVENT_KEY_MAX_LENGTH]
    task_id = fields.get("TaskId")
    if task_id and not _TASK_ID.fullmatch(task_id):
        task_id = None
    if task_id:
        attributes[attr.WECOM_MESSAGE_TASK_ID] = task_id
    return _facts(
        event, attr.CALLBACK_OK, attributes=attributes, agent_id=agent_id, task_id=task_id
    )


def _failed(event: str, error: WeComCryptoError, agent_id: Optional[int] = None) -> CallbackFacts:
    outcome = _OUTCOME_OF_CODE.get(error.code, attr.CALLBACK_DECRYPT_FAILED)
    return _facts(event, outcome, crypto_error=error.code, agent_id=agent_id)


def _facts(
    event: str,
    outcome: str,
    *,
    crypto_error: Optional[int] = None,
    attributes: Optional[dict[str, AttributeValue]] = None,
    agent_id: Optional[int] = None,
    task_id: Optional[str] = None,
) -> CallbackFacts:
    return CallbackFacts(event, outcome, crypto_error, attributes or {}, agent_id, task_id)


def _int(value: Optional[str]) -> Optional[int]:
    if value is None:
        return None
    value = value.strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 12 else None

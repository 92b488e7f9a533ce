"""Who a message goes to, read from the request body of ``message/send`` and its siblings.

``touser`` names members exactly (``"zhangsan|lisi"``, or ``"@all"``); ``toparty`` and
``totag`` name departments and tags, whose members cannot be known without asking WeCom, so
they are counted as parties and tags. ``appchat/send`` goes to the members of a chat
(``chatid``), unknown here too. The body is scanned as bytes (the common case: top-level
string fields without escapes); anything else (arrays in ``linkedcorp/message/send``,
escaped strings) falls back to ``json.loads``. Never raises on a malformed body: it is the
app's request, and WeCom will answer it with an errcode.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Final, NamedTuple, Optional, Union

from opentelemetry.instrumentation.wecom._attributes import OTHER_API
from opentelemetry.instrumentation.wecom._body import WINDOW, int_member, string_at

TO_ALL: Final = "@all"
_SEPARATOR: Final = "|"
_KEYS: Final = (b'"touser"', b'"toparty"', b'"totag"', b'"chatid"')
_LIMIT: Final = 1 << 20  # a body larger than this is not a message
MAX_AGENT_IDS: Final = 64
"""Distinct ``wecom.agent_id`` values on metrics; a corp has at most 300 apps, a process few."""


class Recipients(NamedTuple):
    """The recipients one message names. ``users`` are lower-cased and de-duplicated."""

    agent_id: Optional[int]
    users: tuple[str, ...]
    to_all: bool
    parties: int
    tags: int
    chat_id: Optional[str]


NO_RECIPIENTS: Final = Recipients(None, (), False, 0, 0, None)


def recipients_of(body: bytes) -> Recipients:
    """The recipients named in a message request body (``NO_RECIPIENTS`` if it names none)."""
    if not body or len(body) > _LIMIT or body.lstrip()[:1] != b"{":
        return NO_RECIPIENTS
    fields: dict[bytes, Optional[str]] = {}
    for key in _KEYS:
        position = body.find(key)
        if position < 0:
            fields[key] = None
            continue
        value = string_at(body, position + len(key))
        if value is None:
            return _recipients_from_json(body)
        fields[key] = value
    touser, toparty, totag, chat_id = (fields[key] for key in _KEYS)
    users, to_all = _users(touser)
    return Recipients(
        int_member(body[:WINDOW], b'"agentid"'),
        users,
        to_all,
        _count(toparty),
        _count(totag),
        chat_id,
    )


def _recipients_from_json(body: bytes) -> Recipients:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return NO_RECIPIENTS
    if not isinstance(payload, dict):
        return NO_RECIPIENTS
    users, to_all = _users(_joined(payload.get("touser")))
    chat_id = payload.get("chatid")
    return Recipients(
        _agent_id(payload.get("agentid")),
        users,
        to_all,
        _count(_joined(payload.get("toparty"))),
        _count(_joined(payload.get("totag"))),
        chat_id if isinstance(chat_id, str) and chat_id else None,
    )


def _joined(value: Any) -> Optional[str]:
    """A ``|``-separated string, also from the arrays some APIs take instead."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return _SEPARATOR.join(str(item) for item in value if isinstance(item, (str, int)))
    return None


def _users(touser: Optional[str]) -> tuple[tuple[str, ...], bool]:
    if not touser:
        return (), False
    if touser.strip() == TO_ALL:
        return (), True
    users = dict.fromkeys(user.strip().lower() for user in touser.split(_SEPARATOR) if user.strip())
    return tuple(users), False


def _count(value: Optional[str]) -> int:
    if not value:
        return 0
    return len({item.strip() for item in value.split(_SEPARATOR) if item.strip()})


def _agent_id(value: Any) -> Optional[int]:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


class AgentIds:
    """``wecom.agent_id`` for metrics: the first ``limit`` distinct agent ids, then ``_OTHER``."""

    def __init__(self, limit: int = MAX_AGENT_IDS) -> None:
        self._limit = limit
        self._seen: set[int] = set()
        self._lock = threading.Lock()

    def metric_value(self, agent_id: int) -> Union[int, str]:
        if agent_id in self._seen:
            return agent_id
        with self._lock:
            if len(self._seen) < self._limit:
                self._seen.add(agent_id)
                return agent_id
        return OTHER_API

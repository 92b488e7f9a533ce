"""``message/send`` and its siblings: message type, agent, recipients, and what WeCom drops.

WeCom accepts a message with ``errcode`` 0 even when it dropped some of the
recipients, listing them in ``invaliduser`` / ``invalidparty`` / ``invalidtag``
/ ``unlicenseduser`` (``|``-separated). That partial failure is invisible to
HTTP tracing; here it becomes span attributes and a counter. So do the
person-times the app spends of its daily budget, and the deliveries WeCom
discards without any errcode because a member got too many messages
(``_discards``). Those points are recorded for every call, sampled or not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Optional

from opentelemetry.util.types import AttributeValue

from opentelemetry.instrumentation.wecom import _attributes as attr
from opentelemetry.instrumentation.wecom._body import WINDOW, int_member, str_member, string_at
from opentelemetry.instrumentation.wecom._delivery import MAX_TASK_ID_LENGTH
from opentelemetry.instrumentation.wecom._extensions._base import _Extension
from opentelemetry.instrumentation.wecom._recipients import Recipients, recipients_of

if TYPE_CHECKING:
    from collections.abc import Mapping

    from opentelemetry.instrumentation.wecom._call import RequestBody, ResponseInfo, WeComCall
    from opentelemetry.instrumentation.wecom._verdict import Verdict

RECIPIENT_KINDS: Final = ("invaliduser", "invalidparty", "invalidtag", "unlicenseduser")
# The kinds that name members: they get nothing, so they do not count against member limits.
_MEMBER_KINDS: Final = frozenset({"invaliduser", "unlicenseduser"})
_MSGTYPE_MAX_LENGTH: Final = 32
# Every recipient kind's key contains one of these; a body without them has dropped no one.
_DROPPED_MARKERS: Final = (b'"invalid', b'"unlicenseduser"')
_KIND_KEYS: Final = tuple(f'"{kind}"'.encode() for kind in RECIPIENT_KINDS)


class _MessageSendExtension(_Extension):
    def before_call(
        self, call: WeComCall, request_body: RequestBody, attributes: dict[str, AttributeValue]
    ) -> None:
        body = request_body()
        if not body:
            return
        head = body[:WINDOW]  # the top-level fields come first in every SDK's encoding
        msgtype = str_member(head, b'"msgtype"', _MSGTYPE_MAX_LENGTH)
        if msgtype:
            attributes[attr.WECOM_MESSAGE_MSGTYPE] = msgtype
        agent_id = int_member(head, b'"agentid"')
        if agent_id is not None:
            attributes[attr.WECOM_AGENT_ID] = agent_id
        if msgtype == "template_card":
            _remember_card(call, body, agent_id, attributes)

    def on_finish(
        self,
        call: WeComCall,
        judged: Verdict,
        response: Optional[ResponseInfo],
        attributes: dict[str, AttributeValue],
    ) -> None:
        payload = _dropped_payload(response)
        dropped_users: set[str] = set()
        if payload is not None:
            dropped_users = _count_dropped(call, payload, attributes)
        if judged.status != attr.STATUS_OK:
            return  # not accepted: nobody gets it, nothing is spent
        body = call.request_bytes()
        if body:
            _count_recipients(call, recipients_of(body), dropped_users, attributes)


def _dropped_payload(response: Optional[ResponseInfo]) -> Optional[Mapping[str, object]]:
    """The response as JSON, if it may list dropped recipients (a cheap scan spares the parse)."""
    if response is None:
        return None
    if response.payload is None and not may_list_dropped(response.body):
        return None
    return response.json()


def _count_dropped(
    call: WeComCall, payload: Mapping[str, object], attributes: dict[str, AttributeValue]
) -> set[str]:
    """Count the recipients WeCom dropped; return the members among them (lower-cased)."""
    dropped = False
    users: set[str] = set()
    for kind in RECIPIENT_KINDS:
        value = payload.get(kind)
        if not isinstance(value, str) or not value:
            continue
        names = [recipient for recipient in value.split("|") if recipient]
        if names:
            dropped = True
            attributes[f"{attr.WECOM_MESSAGE_INVALID_PREFIX}{kind}"] = len(names)
            call.count_invalid_recipients(kind, len(names))
            if kind in _MEMBER_KINDS:
                users.update(name.lower() for name in names)
    if dropped and payload.get("errcode", 0) == 0:
        attributes[attr.WECOM_MESSAGE_PARTIAL_FAILURE] = True
    return users


def _count_recipients(
    call: WeComCall,
    recipients: Recipients,
    dropped_users: set[str],
    attributes: dict[str, AttributeValue],
) -> None:
    """Person-times of an accepted message, and the deliveries WeCom will discard."""
    telemetry = call.telemetry
    users = [user for user in recipients.users if user not in dropped_users]
    point: dict[str, AttributeValue] = {attr.WECOM_API: call.api}
    if recipients.agent_id is not None:
        point[attr.WECOM_AGENT_ID] = telemetry.agent_ids.metric_value(recipients.agent_id)
    for kind, count in (
        (attr.RECIPIENT_USER, len(users)),
        (attr.RECIPIENT_PARTY, recipients.parties),
        (attr.RECIPIENT_TAG, recipients.tags),
        (attr.RECIPIENT_ALL, 1 if recipients.to_all else 0),
    ):
        if count:
            attributes[f"{attr.WECOM_MESSAGE_RECIPIENTS_PREFIX}{kind}"] = count
            telemetry.message_recipients.add(count, {**point, attr.WECOM_RECIPIENT_KIND: kind})
    windows = telemetry.discard_windows
    if not windows.enabled:
        return
    if users:
        discarded = windows.deliver_to_members(recipients.agent_id, users)
    elif recipients.chat_id is not None:
        discarded = windows.deliver_to_chat(recipients.chat_id)
    else:
        return
    if discarded:
        attributes[attr.WECOM_MESSAGE_DISCARDED] = sum(discarded.values())
        for limit, count in discarded.items():
            telemetry.messages_discarded.add(count, {**point, attr.WECOM_MESSAGE_LIMIT: limit})


def _remember_card(
    call: WeComCall, body: bytes, agent_id: int | None, attributes: dict[str, AttributeValue]
) -> None:
    """The delivery chain's send side: the card's ``task_id``, for the callback to link to."""
    task_id = str_member(body, b'"task_id"', MAX_TASK_ID_LENGTH)
    if task_id:
        attributes[attr.WECOM_MESSAGE_TASK_ID] = task_id
        call.telemetry.deliveries.sent(agent_id, task_id, call.span.get_span_context())


def may_list_dropped(body: bytes | None) -> bool:
    """A cheap scan that spares parsing the (usual) response that dropped no one.

    That response names no recipient kind, or names them empty (``"invaliduser": ""``, as
    WeCom long answered every message): only a marker that is not such an empty member
    makes the body worth parsing.
    """
    if body is None:
        return False
    for marker in _DROPPED_MARKERS:
        position = body.find(marker)
        while position >= 0:
            if not _empty_kind_at(body, position):
                return True
            position = body.find(marker, position + len(marker))
    return False


def _empty_kind_at(body: bytes, position: int) -> bool:
    """Whether ``body`` holds a recipient kind with an empty value (``"invalidtag": ""``) here."""
    for key in _KIND_KEYS:
        if body.startswith(key, position):
            return string_at(body, position + len(key), 0) == ""
    return False

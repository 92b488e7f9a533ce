"""``message/send`` and its siblings: message type, agent, and partially failed deliveries.

WeCom accepts a message with ``errcode`` 0 even when it dropped some of the
recipients, listing them in ``invaliduser`` / ``invalidparty`` / ``invalidtag``
/ ``unlicenseduser`` (``|``-separated). That partial failure is invisible to
HTTP tracing; here it becomes span attributes and a counter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from opentelemetry.util.types import AttributeValue

from opentelemetry.instrumentation.wecom import _attributes as attr
from opentelemetry.instrumentation.wecom._body import WINDOW, int_member, str_member
from opentelemetry.instrumentation.wecom._delivery import MAX_TASK_ID_LENGTH
from opentelemetry.instrumentation.wecom._extensions._base import _Extension

if TYPE_CHECKING:
    from opentelemetry.instrumentation.wecom._call import RequestBody, ResponseInfo, WeComCall

RECIPIENT_KINDS: Final = ("invaliduser", "invalidparty", "invalidtag", "unlicenseduser")
_MSGTYPE_MAX_LENGTH: Final = 32
# Every recipient kind's key contains one of these; a body without them has dropped no one.
_DROPPED_MARKERS: Final = (b'"invalid', b'"unlicenseduser"')


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

    def on_response(
        self, call: WeComCall, response: ResponseInfo, attributes: dict[str, AttributeValue]
    ) -> None:
        if response.payload is None and not _may_list_dropped(response.body):
            return
        payload = response.json()
        if payload is None:
            return
        dropped = False
        for kind in RECIPIENT_KINDS:
            value = payload.get(kind)
            if not isinstance(value, str) or not value:
                continue
            count = sum(1 for recipient in value.split("|") if recipient)
            if count:
                dropped = True
                attributes[f"{attr.WECOM_MESSAGE_INVALID_PREFIX}{kind}"] = count
                call.count_invalid_recipients(kind, count)
        if dropped and payload.get("errcode", 0) == 0:
            attributes[attr.WECOM_MESSAGE_PARTIAL_FAILURE] = True


def _remember_card(
    call: WeComCall, body: bytes, agent_id: int | None, attributes: dict[str, AttributeValue]
) -> None:
    """The delivery chain's send side: the card's ``task_id``, for the callback to link to."""
    task_id = str_member(body, b'"task_id"', MAX_TASK_ID_LENGTH)
    if task_id:
        attributes[attr.WECOM_MESSAGE_TASK_ID] = task_id
        call.telemetry.deliveries.sent(agent_id, task_id, call.span.get_span_context())


def _may_list_dropped(body: bytes | None) -> bool:
    """A cheap scan that spares parsing the (usual) response that dropped no one."""
    return body is not None and any(marker in body for marker in _DROPPED_MARKERS)

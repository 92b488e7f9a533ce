"""``message/send`` and its siblings: message type, agent, and partially failed deliveries.

WeCom accepts a message with ``errcode`` 0 even when it dropped some of the
recipients, listing them in ``invaliduser`` / ``invalidparty`` / ``invalidtag``
/ ``unlicenseduser`` (``|``-separated). That partial failure is invisible to
HTTP tracing; here it becomes span attributes and a counter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from opentelemetry.instrumentation.wecom import _attributes as attr
from opentelemetry.instrumentation.wecom.extensions._base import Extension

if TYPE_CHECKING:
    from opentelemetry.instrumentation.wecom._call import RequestJson, ResponseInfo, WeComCall

RECIPIENT_KINDS: Final = ("invaliduser", "invalidparty", "invalidtag", "unlicenseduser")
_MSGTYPE_MAX_LENGTH: Final = 32


class MessageSendExtension(Extension):
    def before_call(self, call: WeComCall, request_json: RequestJson) -> None:
        body = request_json()
        if body is None:
            return
        msgtype = body.get("msgtype")
        if isinstance(msgtype, str) and msgtype:
            call.span.set_attribute(attr.WECOM_MESSAGE_MSGTYPE, msgtype[:_MSGTYPE_MAX_LENGTH])
        agent_id = body.get("agentid")
        if isinstance(agent_id, int) and not isinstance(agent_id, bool):
            call.span.set_attribute(attr.WECOM_AGENT_ID, agent_id)
        elif isinstance(agent_id, str) and agent_id.isdigit():
            call.span.set_attribute(attr.WECOM_AGENT_ID, int(agent_id))

    def on_response(self, call: WeComCall, response: ResponseInfo) -> None:
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
                call.span.set_attribute(f"{attr.WECOM_MESSAGE_INVALID_PREFIX}{kind}", count)
                call.count_invalid_recipients(kind, count)
        if dropped and payload.get("errcode", 0) == 0:
            call.span.set_attribute(attr.WECOM_MESSAGE_PARTIAL_FAILURE, True)

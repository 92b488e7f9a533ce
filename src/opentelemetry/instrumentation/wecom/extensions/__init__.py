"""Per-API extensions: what only some WeCom APIs need, behind one small lifecycle.

Modelled on the botocore instrumentation's ``extensions/``: the core calls
``before_call`` once the span is recording and ``on_response`` when the call
ends with a response; an extension only adds attributes and metric points.
Extensions hold no per-call state, so one instance serves every call.
"""

from __future__ import annotations

from typing import Final, Optional

from opentelemetry.instrumentation.wecom.extensions._base import Extension
from opentelemetry.instrumentation.wecom.extensions.media import MediaDownloadExtension
from opentelemetry.instrumentation.wecom.extensions.message import MessageSendExtension
from opentelemetry.instrumentation.wecom.extensions.token import TokenExtension

__all__ = ["Extension", "extension_for"]

_message_send: Final = MessageSendExtension()
_token: Final = TokenExtension()
_media_download: Final = MediaDownloadExtension()

_EXTENSIONS: Final[dict[str, Extension]] = {
    "message/send": _message_send,
    "appchat/send": _message_send,
    "linkedcorp/message/send": _message_send,
    "externalcontact/message/send": _message_send,
    "gettoken": _token,
    "service/get_suite_token": _token,
    "service/get_provider_token": _token,
    "service/get_corp_token": _token,
    "media/get": _media_download,
    "media/get/jssdk": _media_download,
}


def extension_for(api: str) -> Optional[Extension]:
    """The extension for ``api``, or ``None`` for the many APIs that need none."""
    return _EXTENSIONS.get(api)

"""Per-API extensions: what only some WeCom APIs need, behind one small lifecycle.

Modelled on the botocore instrumentation's ``extensions/``: the core calls
``before_call`` once the span is recording and ``on_response`` when the call
ends with a response; an extension only adds attributes and metric points.
Extensions are built lazily on first use of their API.
"""

from __future__ import annotations

import threading
from typing import Callable, Final, Optional

from opentelemetry.instrumentation.wecom.extensions._base import Extension

__all__ = ["Extension", "extension_for"]


def _message_send() -> Extension:
    from opentelemetry.instrumentation.wecom.extensions.message import MessageSendExtension

    return MessageSendExtension()


def _token() -> Extension:
    from opentelemetry.instrumentation.wecom.extensions.token import TokenExtension

    return TokenExtension()


def _media_download() -> Extension:
    from opentelemetry.instrumentation.wecom.extensions.media import MediaDownloadExtension

    return MediaDownloadExtension()


_FACTORIES: Final[dict[str, Callable[[], Extension]]] = {
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

_built: dict[str, Extension] = {}
_lock = threading.Lock()


def extension_for(api: str) -> Optional[Extension]:
    """The extension for ``api``, or ``None`` for the many APIs that need none."""
    extension = _built.get(api)
    if extension is not None:
        return extension
    factory = _FACTORIES.get(api)
    if factory is None:
        return None
    with _lock:
        return _built.setdefault(api, factory())

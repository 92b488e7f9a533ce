"""Per-API extensions: what only some WeCom APIs need, behind one small lifecycle.

Modelled on the botocore instrumentation's ``extensions/``: the core calls
``before_call`` once the span is recording and ``on_response`` when the call
ends with a response; an extension only adds attributes and metric points.
Extensions hold no per-call state, so one instance serves every call.

A new extension is one module here with one ``_Extension`` subclass, and one
line per API it serves in ``_EXTENSIONS``; its module is imported the first
time a call to one of those APIs is made.
"""

from __future__ import annotations

import importlib
import threading
from typing import Final, Optional

from opentelemetry.instrumentation.wecom._extensions._base import _Extension
from opentelemetry.instrumentation.wecom._retries import TOKEN_APIS

__all__ = ["MESSAGE_SEND_APIS", "TOKEN_APIS", "_Extension", "extension_for"]

# API path -> (module in this package, class name).
_EXTENSIONS: Final[dict[str, tuple[str, str]]] = {
    "message/send": (".message", "_MessageSendExtension"),
    "appchat/send": (".message", "_MessageSendExtension"),
    "linkedcorp/message/send": (".message", "_MessageSendExtension"),
    "externalcontact/message/send": (".message", "_MessageSendExtension"),
    # gettoken and the suite/provider/corp token APIs: the one list is _retries.TOKEN_APIS.
    **dict.fromkeys(sorted(TOKEN_APIS), (".token", "_TokenExtension")),
    "media/get": (".media", "_MediaDownloadExtension"),
    "media/get/jssdk": (".media", "_MediaDownloadExtension"),
}

#: The APIs that send a message and may drop recipients (``wecom.message.invalid.*``).
MESSAGE_SEND_APIS: Final = frozenset(a for a, (m, _) in _EXTENSIONS.items() if m == ".message")

_instances: dict[tuple[str, str], _Extension] = {}
_lock = threading.Lock()


def _lazy_load(module: str, cls: str) -> _Extension:
    """The one shared instance of ``cls``, importing ``module`` on first use."""
    key = (module, cls)
    with _lock:
        extension = _instances.get(key)
        if extension is None:
            extension = getattr(importlib.import_module(module, __name__), cls)()
            _instances[key] = extension
        return extension


def extension_for(api: str) -> Optional[_Extension]:
    """The extension for ``api``, or ``None`` for the many APIs that need none."""
    entry = _EXTENSIONS.get(api)
    if entry is None:
        return None
    extension = _instances.get(entry)
    return extension if extension is not None else _lazy_load(*entry)

"""Transport adapters: translate one HTTP client's request and response to a ``WeComCall``.

Each adapter wraps the client method that already reads the response body
(httpx ``Client.send`` / ``AsyncClient.send``, requests ``Session.send``) or
the response's own reading method (aiohttp ``ClientResponse.read``), so the
errcode is taken from bytes the app reads anyway. An adapter module
offers wrapper factories (``send_wrapper(telemetry)`` ...) for the
instrumentor, and ``read_response(result)`` for the decorator; it imports its
client at the top, so it is imported only once that client is.

A new client is one module here, one block of ``wrap_function_wrapper`` /
``unwrap`` lines in ``_instrumentor.py``, and one line in ``_CLIENTS`` below.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Final, Optional

if TYPE_CHECKING:
    from opentelemetry.instrumentation.wecom._call import ResponseInfo

# (the client's top-level module, its adapter module in this package).
_CLIENTS: Final = (("httpx", "._httpx"), ("requests", "._requests"), ("aiohttp", "._aiohttp"))


def read_response(result: object) -> Optional[ResponseInfo]:
    """What the core needs of an HTTP client response whose body has been read, else ``None``.

    Only clients the app has already imported are asked: ``result`` cannot be a
    response of any other, and no client is imported on the app's behalf.
    """
    for client, adapter in _CLIENTS:
        if client in sys.modules:
            info: Optional[ResponseInfo] = importlib.import_module(adapter, __name__).read_response(
                result
            )
            if info is not None:
                return info
    return None

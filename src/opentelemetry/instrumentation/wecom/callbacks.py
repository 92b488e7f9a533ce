"""WeCom callbacks: WSGI and ASGI middleware for the app's callback URL.

WeCom delivers messages, events and template-card clicks to the app by calling its callback URL,
signed with ``msg_signature``, ``timestamp`` and ``nonce``. The middleware recognises those
requests, records each as a SERVER span ``wecom callback <event>`` and a
``wecom.callback.duration`` point by event and outcome (signature check, decryption), and links
a template-card click to the ``message/send`` span that sent the card. Every other request,
and everything the app sees, is left as it is. Usage::

    from opentelemetry.instrumentation.wecom.callbacks import (
        WeComASGIMiddleware,
        WeComWSGIMiddleware,
    )

    keys = {"token": TOKEN, "encoding_aes_key": AES_KEY, "receive_id": CORP_ID}
    flask_app.wsgi_app = WeComWSGIMiddleware(flask_app.wsgi_app, **keys)   # Flask
    application = WeComWSGIMiddleware(get_wsgi_application(), **keys)      # Django
    fastapi_app.add_middleware(WeComASGIMiddleware, **keys)                # FastAPI, Starlette

The telemetry is described in docs/telemetry.md (Callbacks).
"""

from __future__ import annotations

from opentelemetry.instrumentation.wecom._callbacks.asgi import WeComASGIMiddleware
from opentelemetry.instrumentation.wecom._callbacks.wsgi import WeComWSGIMiddleware

__all__ = ["WeComASGIMiddleware", "WeComWSGIMiddleware"]

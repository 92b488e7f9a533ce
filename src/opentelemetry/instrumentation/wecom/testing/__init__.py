"""A faithful WeCom mock server with fault injection, and a callback simulator.

``MockWeComServer`` speaks WeCom's wire protocol on loopback (business errors as HTTP 200 +
errcode, the modern errmsg format, token lifecycle, partial message failures, media, webhook)
and fails on demand, from a :class:`Scenario` or at run time. ``CallbackSimulator`` pushes
WeCom-style encrypted callbacks to an app. See ``docs/mock-server.md``.

Importing this package needs only the standard library; the callback crypto needs the
``testing`` extra (``cryptography``) and YAML scenarios need PyYAML.
"""

from __future__ import annotations

from opentelemetry.instrumentation.wecom._redaction import REDACTED

from .callbacks import Attempt, CallbackSimulator, Delivery, Verification
from .calls import CallRecord
from .crypto import WeComCrypto, WeComCryptoError
from .deliveries import DeliveryCounts
from .directory import Directory
from .scenario import Fault, Latency, Outcome, RateLimit, Scenario, ScenarioError, TokenPolicy
from .sdk import wechatpy_client
from .server import MockWeComServer

__all__ = [
    "REDACTED",
    "Attempt",
    "CallRecord",
    "CallbackSimulator",
    "Delivery",
    "DeliveryCounts",
    "Directory",
    "Fault",
    "Latency",
    "MockWeComServer",
    "Outcome",
    "RateLimit",
    "Scenario",
    "ScenarioError",
    "TokenPolicy",
    "Verification",
    "WeComCrypto",
    "WeComCryptoError",
    "wechatpy_client",
]

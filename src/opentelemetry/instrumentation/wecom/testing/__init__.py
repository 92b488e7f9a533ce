"""A faithful WeCom mock server with fault injection, and a callback simulator.

``MockWeComServer`` speaks WeCom's wire protocol on loopback (business errors as HTTP 200 +
errcode, the modern errmsg format, token lifecycle, partial message failures, media, webhook)
and fails on demand, from a :class:`Scenario` or at run time. ``CallbackSimulator`` pushes
WeCom-style encrypted callbacks to an app. See ``docs/mock-server.md``.

The mock stands on its own: it imports nothing of the instrumentation. Importing this
package needs only the standard library and loads each name on first use (PEP 562), so
the opt-in pytest plugin (``pytest_plugin``) costs nothing until a test asks for
``wecom_mock``. The callback crypto is the package's public leaf module ``crypto`` (it imports
nothing else of the package) and needs ``cryptography`` (the ``crypto`` extra, part of
``testing``); YAML scenarios need PyYAML.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from opentelemetry.instrumentation.wecom.crypto import WeComCrypto, WeComCryptoError

    from .callbacks import Attempt, CallbackSimulator, Delivery, Verification
    from .calls import REDACTED, CallRecord
    from .clock import ManualClock
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
    "ManualClock",
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

# Each public name and the module (in this package, or the public crypto leaf) that defines it.
_LAZY: Final = {
    "REDACTED": ".calls",
    "Attempt": ".callbacks",
    "CallRecord": ".calls",
    "CallbackSimulator": ".callbacks",
    "Delivery": ".callbacks",
    "DeliveryCounts": ".deliveries",
    "Directory": ".directory",
    "Fault": ".scenario",
    "Latency": ".scenario",
    "ManualClock": ".clock",
    "MockWeComServer": ".server",
    "Outcome": ".scenario",
    "RateLimit": ".scenario",
    "Scenario": ".scenario",
    "ScenarioError": ".scenario",
    "TokenPolicy": ".scenario",
    "Verification": ".callbacks",
    "WeComCrypto": "opentelemetry.instrumentation.wecom.crypto",  # the public leaf, re-exported
    "WeComCryptoError": "opentelemetry.instrumentation.wecom.crypto",
    "wechatpy_client": ".sdk",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

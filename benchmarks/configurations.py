"""The instrumentation configurations under comparison, and switching between them in-process.

Every instrumentor patches at class level, so one client per workload serves
every configuration; switching is ``instrument()`` / ``uninstrument()``. The
stock instrumentation is installed first and removed last: with requests, the
stock ``RequestsInstrumentor`` replaces ``Session.send`` by assignment, and its
``uninstrument()`` would otherwise restore the wrong function from under the
``wrapt`` wrapper of ``WeComInstrumentor``. The ``floor`` configuration is a
reference row, not a product: see :mod:`benchmarks.floor`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Final, Optional, Protocol

from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.sdk.metrics import MeterProvider

from benchmarks.floor import FLOOR_SCOPE, FloorInstrumentation
from benchmarks.sdk import Sdk
from opentelemetry.instrumentation.wecom import WeComInstrumentor

WECOM_SCOPE: Final = "opentelemetry.instrumentation.wecom"
STOCK_SCOPES: Final = {
    "httpx": "opentelemetry.instrumentation.httpx",
    "requests": "opentelemetry.instrumentation.requests",
    "aiohttp": "opentelemetry.instrumentation.aiohttp_client",
}
STOCK_NAMES: Final = {
    "httpx": "HTTPXClientInstrumentor",
    "requests": "RequestsInstrumentor",
    "aiohttp": "AioHttpClientInstrumentor",
}


class _Installed(Protocol):
    def uninstrument(self) -> object: ...


@dataclass(frozen=True)
class Configuration:
    key: str
    label: str
    stock: bool = False
    wecom: bool = False
    keep_http_spans: bool = False
    floor: bool = False
    chains_and_windows: bool = True

    def spans_per_call(self, library: str) -> Counter[str]:
        """The spans one call must produce, by instrumentation scope."""
        expected: Counter[str] = Counter()
        if self.floor:
            expected[FLOOR_SCOPE] = 1
        if self.wecom:
            expected[WECOM_SCOPE] = 1
        if self.stock and (self.keep_http_spans or not self.wecom):
            expected[STOCK_SCOPES[library]] = 1
        return expected


BARE: Final = Configuration("a", "bare")
STOCK: Final = Configuration("b", "stock HTTP instrumentation", stock=True)
WECOM: Final = Configuration("c", "WeComInstrumentor (default)", wecom=True)
WECOM_WITH_HTTP: Final = Configuration(
    "d", "WeComInstrumentor + stock, HTTP spans kept", stock=True, wecom=True, keep_http_spans=True
)
FLOOR: Final = Configuration("floor", "SDK floor: minimal span + metric wrapper", floor=True)
ALL: Final = (BARE, STOCK, WECOM, WECOM_WITH_HTTP, FLOOR)
# (c) without the retry chains and the silent-discard windows: (c) - (e) is what they cost.
WECOM_WITHOUT_CHAINS: Final = Configuration(
    "e",
    "WeComInstrumentor(retry_window=0, max_tracked_members=0)",
    wecom=True,
    chains_and_windows=False,
)


def label(config: Configuration, library: str) -> str:
    """``(b) httpx + HTTPXClientInstrumentor`` and the like, for reports."""
    stock = STOCK_NAMES.get(library, "")
    parts = [library]
    if config.floor:
        parts.append("minimal span + metric wrapper (SDK floor)")
    if config.stock:
        parts.append(stock)
    if config.wecom and not config.chains_and_windows:
        parts.append("WeCom, retry chains and member windows off")
    elif config.wecom:
        parts.append(
            "WeComInstrumentor(keep_http_spans=True)" if config.keep_http_spans else "WeCom"
        )
    return f"({config.key}) " + " + ".join(parts)


def _stock_instrumentor(library: str) -> Any:
    if library == "httpx":
        return HTTPXClientInstrumentor()
    if library == "requests":
        return RequestsInstrumentor()
    return AioHttpClientInstrumentor()


class Switch:
    """Installs one configuration at a time on the shared SDK."""

    def __init__(self, sdk: Sdk, port: int) -> None:
        self._sdk = sdk
        self._hosts = [f"127.0.0.1:{port}"]
        self._installed: list[_Installed] = []

    def enable(
        self,
        config: Configuration,
        library: str,
        *,
        meter_provider: Optional[MeterProvider] = None,
        max_apis: Optional[int] = None,
    ) -> None:
        self.disable()
        providers: dict[str, Any] = {
            "tracer_provider": self._sdk.tracer_provider,
            "meter_provider": meter_provider or self._sdk.meter_provider,
        }
        if config.floor:
            floor = FloorInstrumentation(
                library, self._sdk.tracer_provider, providers["meter_provider"]
            )
            floor.instrument()
            self._installed.append(floor)
        if config.stock:
            stock = _stock_instrumentor(library)
            stock.instrument(**providers)
            self._installed.append(stock)
        if config.wecom:
            options: dict[str, Any] = {"hosts": self._hosts}
            if config.keep_http_spans:
                options["keep_http_spans"] = True
            if max_apis is not None:
                options["max_apis"] = max_apis
            if not config.chains_and_windows:
                options["retry_window"] = 0
                options["max_tracked_members"] = 0
            wecom = WeComInstrumentor()
            wecom.instrument(**providers, **options)
            self._installed.append(wecom)

    def disable(self) -> None:
        while self._installed:
            self._installed.pop().uninstrument()

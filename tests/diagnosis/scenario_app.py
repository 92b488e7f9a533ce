"""An instrumented WeCom app that lives through one incident, for the diagnosis tests.

Run as a child process (one per scenario, so each has its own ``service.name``, its own SDK
providers and its own WeComInstrumentor):

    python -m tests.diagnosis.scenario_app --scenario ip_not_trusted --service S --otlp HOST:PORT

It starts its own WeCom mock, drives healthy traffic through real instrumented clients
(wechatpy over requests, a hand-written httpx client) for ``--healthy`` seconds, injects the
scenario's fault through the mock's fault injection, keeps the traffic going for ``--fault``
seconds, flushes its telemetry to the collector and prints one JSON line:
``{"service", "fault_start", "fault_end", "calls", "failed"}`` (unix seconds).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import httpx
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from opentelemetry.instrumentation.wecom import WeComInstrumentor
from opentelemetry.instrumentation.wecom.testing import (
    Directory,
    MockWeComServer,
    wechatpy_client,
)

# Messages go to a different member each time: WeCom delivers at most 30 a minute from one app
# to one member and silently discards the rest, which a healthy app must not do.
MEMBERS = tuple(f"member{index:03d}" for index in range(240))
DIRECTORY = Directory(users=(*Directory().users, *MEMBERS))
# The interval the e2e stack's SDKs export at (the bundled default is 60 s).
METRIC_EXPORT_MS = 500
SPAN_DELAY_MS = 200


class Telemetry:
    """SDK providers exporting over OTLP/gRPC, instrumented for one mock."""

    def __init__(self, service: str, version: str, endpoint: str, mock: MockWeComServer) -> None:
        # A fresh instance id per Telemetry, as a new process (a deploy) would have.
        resource = Resource.create(
            {
                "service.name": service,
                "service.version": version,
                "service.instance.id": str(uuid.uuid4()),
                "host.name": "e2e-host",
            }
        )
        self.tracer_provider = TracerProvider(resource=resource)
        self.tracer_provider.add_span_processor(
            BatchSpanProcessor(
                OTLPSpanExporter(endpoint=endpoint, insecure=True),
                schedule_delay_millis=SPAN_DELAY_MS,
            )
        )
        self.meter_provider = MeterProvider(
            resource=resource,
            metric_readers=[
                PeriodicExportingMetricReader(
                    OTLPMetricExporter(endpoint=endpoint, insecure=True),
                    export_interval_millis=METRIC_EXPORT_MS,
                )
            ],
        )
        WeComInstrumentor().instrument(
            tracer_provider=self.tracer_provider,
            meter_provider=self.meter_provider,
            hosts=[mock.host],
        )

    def close(self) -> None:
        WeComInstrumentor().uninstrument()
        self.tracer_provider.force_flush()
        self.meter_provider.force_flush()
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


class RawClient:
    """A WeCom client on httpx with a configurable token cache (the bugs under test).

    ``cache="shared"`` refreshes on 42001/40014 like a good client; ``"stale"`` keeps the
    token it fetched first forever (an unshared cache that never learns); ``"none"`` calls
    gettoken before every call.
    """

    def __init__(self, mock: MockWeComServer, cache: str = "shared", timeout: float = 5.0) -> None:
        self.mock = mock
        self.cache = cache
        self.http = httpx.Client(base_url=mock.api_base_url, timeout=timeout)
        self.token: Optional[str] = None

    def close(self) -> None:
        self.http.close()

    def fetch_token(self) -> str:
        body = self.http.get(
            "gettoken", params={"corpid": self.mock.corp_id, "corpsecret": self.mock.corp_secret}
        ).json()
        if body.get("errcode", 0) != 0:
            raise RuntimeError(f"gettoken failed: {body.get('errcode')}")
        return str(body["access_token"])

    def call(self, method: str, api: str, **kwargs: Any) -> dict[str, Any]:
        if self.cache == "none" or self.token is None:
            self.token = self.fetch_token()
        body = self._send(method, api, **kwargs)
        if body.get("errcode") in (42001, 40014) and self.cache == "shared":
            self.token = self.fetch_token()
            body = self._send(method, api, **kwargs)
        return body

    def _send(self, method: str, api: str, **kwargs: Any) -> dict[str, Any]:
        params = {**kwargs.pop("params", {}), "access_token": self.token}
        result: dict[str, Any] = self.http.request(method, api, params=params, **kwargs).json()
        return result


@dataclass
class Traffic:
    """The app's business: a few operations per tick through wechatpy and the httpx client."""

    mock: MockWeComServer
    raw: RawClient
    wechatpy: Any = None
    recipients: str = ""  # extra recipients of the httpx client's messages
    msgtype: str = "text"
    extra: list[Callable[[], object]] = field(default_factory=list)
    calls: int = 0
    failed: int = 0
    sent: int = 0

    def __post_init__(self) -> None:
        self.wechatpy = wechatpy_client(self.mock, timeout=5)

    def member(self) -> str:
        """The next member to message (each gets a message every 60 s or so)."""
        self.sent += 1
        return MEMBERS[self.sent % len(MEMBERS)]

    def operations(self) -> Iterator[Callable[[], object]]:
        agent = self.mock.agent_id
        yield lambda: self.wechatpy.user.get("lisi")
        yield lambda: self.raw.call("GET", "department/list")
        yield lambda: self._send_raw(agent)
        yield lambda: self.wechatpy.message.send_text(agent, self.member(), "hello")
        yield from self.extra

    def _send_raw(self, agent: int) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "touser": "|".join(filter(None, (self.member(), self.recipients))),
            "msgtype": self.msgtype,
            "agentid": agent,
            "text": {"content": "deploy finished"},
        }
        return self.raw.call("POST", "message/send", json=payload)

    def tick(self) -> None:
        for operation in self.operations():
            self.calls += 1
            try:
                result = operation()
            except Exception:  # the app carries on: the failure is what the test looks at
                self.failed += 1
                continue
            if isinstance(result, dict) and result.get("errcode", 0) != 0:
                self.failed += 1


def run(traffic: Traffic, seconds: float, period: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        traffic.tick()
        time.sleep(max(0.0, period - (time.monotonic() - started)))


# --- the scenarios: what to break when the fault starts -------------------------------------


def _ip(mock: MockWeComServer, traffic: Traffic) -> None:
    mock.inject(api="*", errcode=60020)


def _token_expired(mock: MockWeComServer, traffic: Traffic) -> None:
    traffic.raw.cache = "stale"
    mock.expire_tokens()


def _token_refresh(mock: MockWeComServer, traffic: Traffic) -> None:
    mock.inject(api="gettoken", errcode=40001)
    mock.expire_tokens()


def _overfetch(mock: MockWeComServer, traffic: Traffic) -> None:
    traffic.raw.cache = "none"


def _rate_limited(mock: MockWeComServer, traffic: Traffic) -> None:
    mock.add_rate_limit(api="message/send", per_minute=20, block=60)
    agent = mock.agent_id
    burst = [lambda: traffic.wechatpy.message.send_text(agent, traffic.member(), "burst")]
    traffic.extra = burst * 3


def _recipients(mock: MockWeComServer, traffic: Traffic) -> None:
    traffic.recipients = "ghost1|ghost2"
    agent = mock.agent_id
    traffic.extra = [lambda: traffic.wechatpy.message.send_text(agent, "ghost3|ghost4", "hi")]


def _permission(mock: MockWeComServer, traffic: Traffic) -> None:
    mock.inject(api="user/get", errcode=48002)


def _invalid(mock: MockWeComServer, traffic: Traffic) -> None:
    traffic.msgtype = "txt"  # the new version's bug: an unknown msgtype (40008)


def _unavailable(mock: MockWeComServer, traffic: Traffic) -> None:
    mock.inject(api="message/send", errcode=-1, probability=0.6)
    mock.inject(api="department/list", http_status=502, probability=0.6)


def _network(mock: MockWeComServer, traffic: Traffic) -> None:
    mock.inject(api="*", reset=True, probability=0.7)


def _latency(mock: MockWeComServer, traffic: Traffic) -> None:
    mock.inject(api="user/get", latency=0.6)


def _two_faults(mock: MockWeComServer, traffic: Traffic) -> None:
    # The larger: no call to message/send or user/get gets through; the smaller: half the
    # department/list calls are refused.
    mock.inject(api="message/send", errcode=60020)
    mock.inject(api="user/get", errcode=60020)
    mock.inject(api="department/list", errcode=48002, probability=0.5)


def _healthy(mock: MockWeComServer, traffic: Traffic) -> None:
    return None


SCENARIOS: dict[str, Callable[[MockWeComServer, Traffic], None]] = {
    "healthy": _healthy,
    "ip_not_trusted": _ip,
    "token_expired": _token_expired,
    "token_refresh_failing": _token_refresh,
    "token_overfetch": _overfetch,
    "rate_limited": _rate_limited,
    "recipients_unreachable": _recipients,
    "permission_denied": _permission,
    "invalid_request": _invalid,
    "wecom_unavailable": _unavailable,
    "network_error": _network,
    "latency_degradation": _latency,
    "telemetry_loss": _healthy,  # the fault is the collector's, the app is fine
    "two_faults": _two_faults,
}
# Scenarios whose fault phase runs a new version of the app (a deploy).
DEPLOYS: dict[str, str] = {"invalid_request": "1.5.0"}


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", required=True, choices=sorted(SCENARIOS))
    parser.add_argument("--service", required=True)
    parser.add_argument("--otlp", required=True, help="HOST:PORT of the collector's OTLP/gRPC")
    parser.add_argument("--healthy", type=float, default=8.0)
    parser.add_argument("--fault", type=float, default=10.0)
    parser.add_argument("--period", type=float, default=0.5, help="seconds between ticks")
    parser.add_argument("--start-at", type=float, default=0.0, help="unix time to start at")
    args = parser.parse_args(argv)

    with MockWeComServer(seed=11, directory=DIRECTORY) as mock:
        telemetry = Telemetry(args.service, "1.4.0", args.otlp, mock)
        raw = RawClient(mock)
        traffic = Traffic(mock, raw)
        time.sleep(max(0.0, args.start_at - time.time()))
        try:
            run(traffic, args.healthy, args.period)
            if args.scenario in DEPLOYS:  # the old version stops, the new one starts
                telemetry.close()
                telemetry = Telemetry(args.service, DEPLOYS[args.scenario], args.otlp, mock)
                raw.close()
                raw = traffic.raw = RawClient(mock)
                traffic.wechatpy = wechatpy_client(mock, timeout=5)
            fault_start = time.time()
            SCENARIOS[args.scenario](mock, traffic)
            run(traffic, args.fault, args.period)
            fault_end = time.time()
        finally:
            with contextlib.suppress(Exception):
                raw.close()
            telemetry.close()
    record = {
        "service": args.service,
        "scenario": args.scenario,
        "fault_start": fault_start,
        "fault_end": fault_end,
        "calls": traffic.calls,
        "failed": traffic.failed,
    }
    print(json.dumps(record), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Record Jaeger's answers from the real local stack, for the unit tests of the Jaeger client.

Run it from the repository root (needs the stack binaries, ``wecom-otel stack build``)::

    .venv/bin/python -m tests.diagnosis.record_jaeger

It starts a private collector + Jaeger + Prometheus on free ports, makes a handful of WeCom
calls through the instrumented demo client against the mock with injected faults (a token
refresh chain under a parent span, a 60020 with the egress IP in the errmsg, a partial
recipient failure, a connection reset, a healthy call), waits until Jaeger has them, and
writes every HTTP answer the client asks for (status, content type, body) to
``tests/diagnosis/recordings/jaeger/``. The answers are stored verbatim; only the recorded
ports are whatever the run used. Rerun it when Jaeger's version changes.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import format_trace_id

from opentelemetry.instrumentation.wecom import WeComInstrumentor
from opentelemetry.instrumentation.wecom.demo.clients import HttpxWeComClient
from opentelemetry.instrumentation.wecom.stack.build import find_binaries
from opentelemetry.instrumentation.wecom.stack.ports import HOST, StackPorts
from opentelemetry.instrumentation.wecom.stack.processes import LocalStack
from opentelemetry.instrumentation.wecom.testing import MockWeComServer
from tests.e2e.conftest import COLLECTOR_OVERRIDES

OUT = Path(__file__).resolve().parent / "recordings" / "jaeger"
SERVICE = "wecom-recorded-app"
VERSION = "2.4.1"
# Keep every healthy trace too (the bundled tail sampler keeps 10 % of them).
OVERRIDES = {**COLLECTOR_OVERRIDES, "WECOM_OTEL_HEALTHY_SAMPLING_PERCENT": "100"}
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(url: str) -> dict[str, Any]:
    """One recorded exchange: what was asked and exactly what came back."""
    try:
        with _NO_PROXY.open(url, timeout=10) as response:
            status, headers, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, body = error.code, error.headers, error.read()
    parts = urllib.parse.urlsplit(url)
    return {
        "request": {"method": "GET", "path": parts.path, "query": parts.query},
        "status": status,
        "content_type": headers.get("Content-Type", ""),
        "body": body.decode("utf-8"),
    }


def write(name: str, exchange: dict[str, Any]) -> None:
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(exchange, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"  {path.relative_to(Path.cwd())}: HTTP {exchange['status']}", file=sys.stderr)


@contextmanager
def instrumented(endpoint: str, mock: MockWeComServer) -> Iterator[TracerProvider]:
    resource = Resource.create(
        {"service.name": SERVICE, "service.version": VERSION, "host.name": "recorder-host"}
    )
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint, insecure=True))
    )
    instrumentor = WeComInstrumentor()
    instrumentor.instrument(tracer_provider=provider, hosts=[mock.host])
    try:
        yield provider
    finally:
        instrumentor.uninstrument()
        provider.shutdown()


def make_calls(provider: TracerProvider, mock: MockWeComServer) -> dict[str, str]:
    """The recorded situations: ``{name: trace id}``."""
    tracer = provider.get_tracer("recorder")
    client = HttpxWeComClient(mock.api_base_url, mock.corp_id, mock.corp_secret)
    agent = mock.agent_id
    traces: dict[str, str] = {}

    def send(users: str) -> None:
        body = {"touser": users, "msgtype": "text", "agentid": agent, "text": {"content": "hi"}}
        client.call("POST", "message/send", json=body)

    def run(name: str, action: Any) -> None:
        with tracer.start_as_current_span(f"app {name}") as span:
            traces[name] = format_trace_id(span.get_span_context().trace_id)
            with suppress(Exception):
                action()

    try:
        run("healthy", lambda: send("zhangsan"))
        mock.expire_tokens()
        run("token_refresh", lambda: send("zhangsan|lisi"))
        fault = mock.inject(api="user/get", errcode=60020, times=1)
        run("ip_not_trusted", lambda: client.call("GET", "user/get", params={"userid": "lisi"}))
        mock.remove_fault(fault)
        run("partial_failure", lambda: send("zhangsan|former_employee"))
        fault = mock.inject(api="department/list", reset=True, times=1)
        run("network_error", lambda: client.call("GET", "department/list"))
        mock.remove_fault(fault)
    finally:
        client.close()
    return traces


def wait_for(jaeger: str, trace_ids: dict[str, str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    pending = dict(trace_ids)
    while pending and time.monotonic() < deadline:
        for name, trace_id in list(pending.items()):
            if fetch(f"{jaeger}/api/v3/traces/{trace_id}")["status"] == 200:
                del pending[name]
        time.sleep(0.5)
    if pending:
        raise SystemExit(f"Jaeger never returned {sorted(pending)}")


def v1_search(jaeger: str, tags: Optional[dict[str, str]], start: datetime, end: datetime) -> str:
    params = {
        "service": SERVICE,
        "start": str(int(start.timestamp() * 1_000_000)),
        "end": str(int(end.timestamp() * 1_000_000)),
        "limit": "20",
    }
    if tags is not None:
        params["tags"] = json.dumps(tags)
    return f"{jaeger}/api/traces?{urllib.parse.urlencode(params)}"


def v3_search(jaeger: str, service: str, start: datetime, end: datetime) -> str:
    params = {
        "query.service_name": service,
        "query.start_time_min": start.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "query.start_time_max": end.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "query.num_traces": "100",
        # Ignored by the HTTP gateway of this Jaeger (v2.13): the answer is every trace.
        "query.attributes": json.dumps({"wecom.errcode": "60020"}),
    }
    return f"{jaeger}/api/v3/traces?{urllib.parse.urlencode(params)}"


def record(
    jaeger: str,
    traces: dict[str, str],
    start: datetime,
    end: datetime,
    wrong_backends: dict[str, str],
) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, trace_id in traces.items():
        write(f"trace_{name}", fetch(f"{jaeger}/api/v3/traces/{trace_id}"))
    write("trace_unknown", fetch(f"{jaeger}/api/v3/traces/{'0' * 31}1"))
    write("trace_malformed_id", fetch(f"{jaeger}/api/v3/traces/not-a-trace-id"))
    write("search_errcode_60020", fetch(v1_search(jaeger, {"wecom.errcode": "60020"}, start, end)))
    write("search_errcode_42001", fetch(v1_search(jaeger, {"wecom.errcode": "42001"}, start, end)))
    write("search_no_match", fetch(v1_search(jaeger, {"wecom.errcode": "45009"}, start, end)))
    write("search_service", fetch(v1_search(jaeger, None, start, end)))
    write("search_bad_tags", fetch(v1_search(jaeger, {"error": True}, start, end)))  # type: ignore[dict-item]
    write("services", fetch(f"{jaeger}/api/v3/services"))
    write("search_v3_service", fetch(v3_search(jaeger, SERVICE, start, end)))
    write("search_v3_unknown_service", fetch(v3_search(jaeger, "no-such-service", start, end)))
    # What a user who points --jaeger at the wrong port gets back.
    for name, url in wrong_backends.items():
        write(f"wrong_backend_{name}", fetch(f"{url}/api/v3/traces/{next(iter(traces.values()))}"))
    (OUT / "traces.json").write_text(json.dumps(traces, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    binaries, absent = find_binaries()
    if binaries is None:
        raise SystemExit(f"stack binaries missing ({', '.join(absent)}): wecom-otel stack build")
    with tempfile.TemporaryDirectory(prefix="wecom-record-") as state, MockWeComServer() as mock:
        ports = StackPorts.ephemeral()
        stack = LocalStack(binaries, ports, Path(state), collector_overrides=OVERRIDES)
        with stack:
            jaeger = f"http://{HOST}:{ports.jaeger_ui}"
            start = datetime.now(timezone.utc) - timedelta(seconds=5)
            with instrumented(f"{HOST}:{ports.otlp_grpc}", mock) as provider:
                traces = make_calls(provider, mock)
            wait_for(jaeger, traces)
            wrong = {
                "prometheus": f"http://{HOST}:{ports.prometheus}",
                "collector_health": f"http://{HOST}:{ports.collector_health}",
                "jaeger_health": f"http://{HOST}:{ports.jaeger_health}",
            }
            end = datetime.now(timezone.utc) + timedelta(seconds=5)
            record(jaeger, traces, start, end, wrong)


if __name__ == "__main__":
    main()

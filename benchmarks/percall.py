"""Per-call CPU that WeComInstrumentor adds, with in-memory transports: comparable across commits.

Only the package's public API, httpx and requests are used, so the same file runs with the
virtualenv of another checkout (an earlier commit) and the two figures can be put side by side::

    git worktree add /tmp/round1 be78b58 && python3 -m venv /tmp/round1/.venv \
        && /tmp/round1/.venv/bin/pip install -q -e '/tmp/round1[dev]'
    /tmp/round1/.venv/bin/python benchmarks/percall.py httpx message/send
    .venv/bin/python benchmarks/percall.py httpx message/send

Each run alternates bare and instrumented rounds in one process (``instrument()`` /
``uninstrument()``), ``--rounds`` of ``--calls`` calls each, and prints the medians and the
median of the paired differences. No server and no socket: what is left is the client's own
work and the instrumentation's. ``--option NAME=JSON`` passes an ``instrument()`` option
(``--option retry_window=0 --option max_tracked_members=0`` turns issue 11's work off).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from typing import Any, Callable

import httpx
import requests
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from requests.adapters import BaseAdapter

from opentelemetry.instrumentation.wecom import WeComInstrumentor

_RESPONSE = json.dumps({"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": "m1"}).encode()
_REQUEST = {
    "touser": "zhangsan|lisi",
    "msgtype": "text",
    "agentid": 1000002,
    "text": {"content": "hi"},
}
_HEADERS = {"content-type": "application/json"}


class _Discard(SpanExporter):
    def export(self, spans: Any) -> SpanExportResult:
        return SpanExportResult.SUCCESS


class _InMemoryAdapter(BaseAdapter):
    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        response = requests.Response()
        response.status_code = 200
        response._content = _RESPONSE
        response.headers.update(_HEADERS)
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


def _client(kind: str, url: str) -> Callable[[], object]:
    if kind == "httpx":
        client = httpx.Client(
            transport=httpx.MockTransport(
                lambda _: httpx.Response(200, content=_RESPONSE, headers=_HEADERS)
            )
        )
        return lambda: client.post(url, json=_REQUEST).json()
    session = requests.Session()
    session.mount("https://", _InMemoryAdapter())
    return lambda: session.post(url, json=_REQUEST).json()


def _round(call: Callable[[], object], calls: int, flush: Callable[[], object]) -> float:
    for _ in range(100):
        call()
    gc.collect()
    started = time.process_time()
    for _ in range(calls):
        call()
    flush()
    return (time.process_time() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("client", choices=("httpx", "requests"))
    parser.add_argument("api", nargs="?", default="message/send")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--option", action="append", default=[], metavar="NAME=JSON")
    args = parser.parse_args()
    options = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.option)}

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(_Discard()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    url = f"https://qyapi.weixin.qq.com/cgi-bin/{args.api}?access_token=abc"
    call = _client(args.client, url)
    instrumentor = WeComInstrumentor()
    bare: list[float] = []
    wecom: list[float] = []
    for _ in range(args.rounds):
        bare.append(_round(call, args.calls, tracer_provider.force_flush))
        instrumentor.instrument(
            tracer_provider=tracer_provider, meter_provider=meter_provider, **options
        )
        wecom.append(_round(call, args.calls, tracer_provider.force_flush))
        instrumentor.uninstrument()
    added = statistics.median(w - b for b, w in zip(bare, wecom))
    print(
        f"{args.client} {args.api} {options or ''}: bare {statistics.median(bare):.1f} µs/call, "
        f"instrumented {statistics.median(wecom):.1f}, added {added:.1f} (median of "
        f"{args.rounds} paired rounds of {args.calls} calls)"
    )


if __name__ == "__main__":
    main()

"""Instructions per call added by each adapter, counted with ``valgrind --tool=callgrind``.

``python -m benchmarks.instructions`` (needs valgrind). Counting instructions instead of
timing makes the figures independent of how busy the shared machine is: each configuration
runs in its own process under callgrind, twice (``--low`` and ``--high`` calls), and the
difference divided by the difference in calls is the per-call count, start-up excluded.

Both clients answer from memory (httpx ``MockTransport``, a requests adapter that builds the
response from bytes), so only client and instrumentation code runs. Configurations: (a) bare,
(floor) the SDK floor wrapper of ``benchmarks/floor.py``, (c) ``WeComInstrumentor``, and for
requests (c-nostock), as (c) on a machine without opentelemetry-instrumentation-requests, where
``Session.request`` is not wrapped.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Optional

WORKLOADS = ("get", "post")
_GET_URL = (
    "https://qyapi.weixin.qq.com/cgi-bin/user/get?access_token=SECRET-TOKEN-123456&userid=zhangsan"
)
_POST_URL = "https://qyapi.weixin.qq.com/cgi-bin/message/send?access_token=SECRET-TOKEN-123456"
_PAYLOAD = {"touser": "zhangsan", "msgtype": "text", "agentid": 1000002, "text": {"content": "hi"}}
_BODY = b'{"errcode":0,"errmsg":"ok","invaliduser":""}'
_HEADERS = {"content-type": "application/json; charset=UTF-8", "content-length": str(len(_BODY))}
_CONFIGURATIONS = {
    "httpx": ("a", "floor", "c"),
    "requests": ("a", "floor", "c", "c-nostock"),
}
_COLLECTED = re.compile(rb"Collected : (\d+)")


def _calls(client: str, workload: str) -> Callable[[int], None]:
    """``n`` calls of ``workload`` through ``client``, answered from memory."""
    if client == "httpx":
        import httpx

        transport = httpx.MockTransport(
            lambda request: httpx.Response(200, content=_BODY, headers=_HEADERS)
        )
        http = httpx.Client(transport=transport)

        def httpx_calls(n: int) -> None:
            for _ in range(n):
                if workload == "get":
                    http.get(_GET_URL).json()
                else:
                    http.post(_POST_URL, json=_PAYLOAD).json()

        return httpx_calls

    import requests
    from requests.adapters import BaseAdapter

    class _Canned(BaseAdapter):
        def send(self, request: Any, *args: Any, **kwargs: Any) -> requests.Response:
            response = requests.Response()
            response.status_code = 200
            response.headers = requests.structures.CaseInsensitiveDict(_HEADERS)
            response.raw = io.BytesIO(_BODY)
            response.url = request.url
            response.request = request
            response.encoding = "utf-8"
            return response

        def close(self) -> None:
            pass

    session = requests.Session()
    session.mount("https://", _Canned())

    def requests_calls(n: int) -> None:
        for _ in range(n):
            if workload == "get":
                session.get(_GET_URL).json()
            else:
                session.post(_POST_URL, json=_PAYLOAD).json()

    return requests_calls


def _child(client: str, configuration: str, workload: str, calls: int) -> None:
    """Run under callgrind: set up ``configuration``, warm up, make ``calls`` calls."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from benchmarks.sdk import CountingExporter

    exporter = CountingExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    if configuration == "floor":
        from benchmarks.floor import FloorInstrumentation

        FloorInstrumentation(client, tracer_provider, meter_provider).instrument()
    elif configuration in ("c", "c-nostock"):
        from opentelemetry.instrumentation.wecom import WeComInstrumentor, _instrumentor

        if configuration == "c-nostock":
            installed = _instrumentor._installed
            _instrumentor._installed = lambda name: (  # type: ignore[assignment]
                name != "opentelemetry.instrumentation.requests" and installed(name)
            )
        WeComInstrumentor().instrument(
            tracer_provider=tracer_provider, meter_provider=meter_provider
        )
    run = _calls(client, workload)
    run(50)
    # Long-lived objects out of the collector's way: a full collection of the whole heap,
    # whenever the allocation counters happen to trigger one, would swamp the per-call
    # difference (it moved the figures by tens of thousands of instructions between runs).
    gc.collect()
    gc.freeze()
    run(calls)
    # What ran, for tests/benchmarks/test_smoke.py (callgrind's own report goes to stderr).
    import requests

    report = {
        "spans": sum(exporter.snapshot().values()),
        "request_wrapped": hasattr(requests.Session.request, "__wrapped__"),
    }
    print(json.dumps(report))


def _count(client: str, configuration: str, workload: str, calls: int) -> int:
    """Instructions executed by one child process (callgrind's ``Collected`` total)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            sys.executable,
            "-m",
            "benchmarks.instructions",
            "--child",
            client,
            configuration,
            workload,
            str(calls),
        ]
        # A small, fixed environment (requests reads proxy variables on every call) and a
        # fixed hash seed, so that two runs execute the same instructions.
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tmp, "PYTHONHASHSEED": "0"}
        if "PYTHONPATH" in os.environ:
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        result = subprocess.run(command, capture_output=True, env=env, check=True)
    match = _COLLECTED.search(result.stderr)
    if match is None:
        raise RuntimeError(f"no callgrind total in: {result.stderr[-500:]!r}")
    return int(match.group(1))


def measure(workload: str, low: int, high: int) -> dict[str, dict[str, int]]:
    """Per-call instructions of every configuration, by client."""
    per_call: dict[str, dict[str, int]] = {}
    for client, configurations in _CONFIGURATIONS.items():
        per_call[client] = {}
        for configuration in configurations:
            counts = [_count(client, configuration, workload, n) for n in (low, high)]
            per_call[client][configuration] = (counts[1] - counts[0]) // (high - low)
    return per_call


def render(workload: str, per_call: dict[str, dict[str, int]]) -> str:
    lines = [
        f"Instructions per call ({workload}), in thousands (k Ir):",
        "",
        "| client | configuration | k Ir/call | added to (a) | above the floor |",
        "|---|---|---:|---:|---:|",
    ]
    for client, counts in per_call.items():
        bare, floor = counts["a"], counts["floor"]
        for configuration, count in counts.items():
            added = count - bare
            above = "" if configuration in ("a", "floor") else f"{(count - floor) / 1000:.1f}"
            lines.append(
                f"| {client} | ({configuration}) | {count / 1000:.1f} | {added / 1000:.1f} "
                f"| {above} |"
            )
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions")
    parser.add_argument("--workload", choices=WORKLOADS, default="get")
    parser.add_argument("--low", type=int, default=500)
    parser.add_argument("--high", type=int, default=2000)
    parser.add_argument("--child", nargs=4, metavar=("CLIENT", "CONFIG", "WORKLOAD", "CALLS"))
    args = parser.parse_args(argv)
    if args.child:
        client, configuration, workload, calls = args.child
        _child(client, configuration, workload, int(calls))
        return 0
    print(render(args.workload, measure(args.workload, args.low, args.high)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

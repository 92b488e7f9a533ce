"""An instrumented app for the agent/gateway tests: ``enable()``, wechatpy, the mock WeCom server.

Run as ``python -m tests.e2e.gateway_app`` with OTEL_SERVICE_NAME and the OTLP variables set. It
reads one JSON command per line on stdin, ``{"traces": N, "error_every": K}``, and answers one JSON
line on stdout once the batch is flushed: every trace id it made with its span count, the ids
of the traces holding a WeCom error, and the number of WeCom calls. ``{"quit": true}`` ends it.

Each trace is one parent span and three WeCom calls (user/get, department/list, message/send);
in every K-th trace the user/get asks for an unknown user and gets errcode 60111 (HTTP 200).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import types
from typing import Any

from wechatpy.exceptions import WeChatClientException

from opentelemetry import trace
from opentelemetry.instrumentation.wecom import enable
from opentelemetry.instrumentation.wecom.testing import wechatpy_client

SPANS_PER_TRACE = 4
CALLS_PER_TRACE = 3


def run_batch(client: Any, agent_id: int, traces: int, error_every: int) -> dict[str, Any]:
    tracer = trace.get_tracer("gateway-app")
    made: dict[str, int] = {}
    errors: list[str] = []
    for index in range(traces):
        failing = error_every > 0 and index % error_every == 0
        with tracer.start_as_current_span("process order") as parent:
            trace_id = format(parent.get_span_context().trace_id, "032x")
            with contextlib.suppress(WeChatClientException):
                client.user.get("ghost" if failing else "zhangsan")  # 60111 for the ghost
            client.department.get()
            client.message.send_text(agent_id, "zhangsan", f"order {index} shipped")
        made[trace_id] = SPANS_PER_TRACE
        if failing:
            errors.append(trace_id)
    return {"traces": made, "errors": errors, "calls": traces * CALLS_PER_TRACE}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--api-base-url", required=True)
    parser.add_argument("--corp-id", required=True)
    parser.add_argument("--corp-secret", required=True)
    parser.add_argument("--agent-id", type=int, required=True)
    args = parser.parse_args()

    setup = enable()
    mock = types.SimpleNamespace(
        api_base_url=args.api_base_url, corp_id=args.corp_id, corp_secret=args.corp_secret
    )
    client = wechatpy_client(mock, timeout=5)  # type: ignore[arg-type]
    with trace.get_tracer("gateway-app").start_as_current_span("startup") as startup:
        client.fetch_access_token()  # one gettoken call, in a 2-span trace of its own
    startup_trace = format(startup.get_span_context().trace_id, "032x")
    print(json.dumps({"setup_calls": 1, "setup_trace": startup_trace}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        if command.get("quit"):
            break
        result = run_batch(client, args.agent_id, command["traces"], command["error_every"])
        result["flushed"] = setup.force_flush(10_000)
        print(json.dumps(result), flush=True)
    setup.shutdown()


if __name__ == "__main__":
    main()

"""Send more traces than a collector can hold: ``python flood.py TARGET SECONDS THREADS``.

Each request carries ``SPANS`` spans of a fresh trace with a ``PAYLOAD``-byte attribute, so a
collector that buffers traces (tail sampling) fills its memory quickly. Prints a JSON summary:
requests sent, accepted, refused (by gRPC status code), spans sent.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections import Counter

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

SPANS = 50
PAYLOAD = 60 * 1024
EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def request(padding: KeyValue) -> bytes:
    trace_id = os.urandom(16)
    now = time.time_ns()

    spans = [
        Span(
            trace_id=trace_id,
            span_id=os.urandom(8),
            name="flood",
            kind=Span.SPAN_KIND_INTERNAL,
            start_time_unix_nano=now,
            end_time_unix_nano=now + 1000,
            attributes=[padding],
        )
        for _ in range(SPANS)
    ]
    service = KeyValue(key="service.name", value=AnyValue(string_value="flood"))
    body = trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=Resource(attributes=[service]), scope_spans=[ScopeSpans(spans=spans)]
            )
        ]
    )
    return body.SerializeToString()


def main() -> None:
    target, seconds, threads = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    outcomes: Counter[str] = Counter()
    padding = KeyValue(key="flood.padding", value=AnyValue(string_value="x" * PAYLOAD))
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker() -> None:
        with grpc.insecure_channel(target) as channel:
            export = channel.unary_unary(EXPORT)
            while time.monotonic() < deadline:
                try:
                    export(request(padding), timeout=5)
                    outcome = "OK"
                except grpc.RpcError as error:
                    outcome = error.code().name
                with lock:
                    outcomes[outcome] += 1

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    total = sum(outcomes.values())
    print(json.dumps({"requests": total, "spans": total * SPANS, "outcomes": dict(outcomes)}))


if __name__ == "__main__":
    main()

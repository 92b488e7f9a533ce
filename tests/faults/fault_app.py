"""An app instrumented with ``enable()`` that keeps calling WeCom while the pipeline is hurt.

Run as a child process: ``python fault_app.py '<options json>'``. It starts its own WeCom mock
(so the test process stays free for orchestration), calls ``enable()`` with its defaults
(OTLP http/protobuf, the SDK's BatchSpanProcessor) and then makes ``calls`` WeCom calls, two
per job, each job under a parent span. The errcode mix is fixed by the call index (per 10
calls: 60111 twice, a partial message delivery once, 40001 once, the rest errcode 0), so every
run sends the same known mix and 3 jobs in 5 are error traces.

Options (JSON): ``service``, ``endpoint`` (the collector's OTLP/HTTP URL), ``calls``,
``rate`` (calls per second, 0 = as fast as possible), ``progress`` (a file the app rewrites
with the number of calls made), ``report`` (where the JSON report goes).

The report says what the app saw: each call's duration and any exception that reached it,
every span it created, and, from a wrapper around the OTLP exporter's ``export`` (the test's
view; the exporter itself is unchanged), the spans each export delivered or gave up on.
Spans never handed to the exporter were dropped by the BatchSpanProcessor's full queue.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

ERRCODE_EVERY_TEN: dict[int, Any] = {2: 60111, 5: "partial", 7: 60111, 9: 40001}


def is_error(span: Any) -> bool:
    """The collector's error fast-path rule (filter/keep_errors), on an SDK span."""
    from opentelemetry.trace import StatusCode

    attributes = span.attributes or {}
    errcode = attributes.get("wecom.errcode")
    return (
        span.status.status_code is StatusCode.ERROR
        or (errcode is not None and errcode != 0)
        or attributes.get("wecom.message.partial_failure") is True
    )


def _describe(span: Any) -> list[Any]:
    return [
        format(span.context.trace_id, "032x"),
        format(span.context.span_id, "016x"),
        span.name,
        is_error(span),
    ]


class _Record:
    """Spans created, and what each export did with them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.created: list[list[Any]] = []
        self.delivered: list[list[Any]] = []
        self.given_up: list[list[Any]] = []
        self.batches: list[tuple[float, int, bool]] = []

    def exported(self, spans: Sequence[Any], ok: bool) -> None:
        described = [_describe(span) for span in spans]
        with self.lock:
            (self.delivered if ok else self.given_up).extend(described)
            self.batches.append((time.time(), len(spans), ok))


def _watch(record: _Record) -> Any:
    """Wrap the OTLP/HTTP span exporter's export; return a span processor counting spans."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import SpanProcessor
    from opentelemetry.sdk.trace.export import SpanExportResult

    original = OTLPSpanExporter.export

    def export(self: Any, spans: Sequence[Any]) -> Any:
        result = original(self, spans)
        record.exported(spans, result is SpanExportResult.SUCCESS)
        return result

    OTLPSpanExporter.export = export  # type: ignore[method-assign]

    class Created(SpanProcessor):
        def on_end(self, span: Any) -> None:
            with record.lock:
                record.created.append(_describe(span))

    return Created()


def _call(client: Any, mock: Any, token: str, index: int) -> None:
    outcome = ERRCODE_EVERY_TEN.get(index % 10, 0)
    api = mock.api_base_url
    if outcome == 40001:
        client.get(api + "gettoken", params={"corpid": mock.corp_id, "corpsecret": "wrong"})
    elif outcome == "partial":
        client.post(
            api + "message/send",
            params={"access_token": token},
            json={
                "touser": "zhangsan|Nobody",
                "msgtype": "text",
                "agentid": mock.agent_id,
                "text": {"content": "disk full"},
            },
        )
    else:
        user = "ghost" if outcome == 60111 else "zhangsan"
        client.get(api + "user/get", params={"access_token": token, "userid": user})


def main() -> None:
    options = json.loads(sys.argv[1])
    import httpx

    from opentelemetry import trace
    from opentelemetry.instrumentation.wecom import enable
    from opentelemetry.instrumentation.wecom.testing import MockWeComServer

    record = _Record()
    created = _watch(record)
    durations: list[float] = []
    exceptions: list[str] = []
    calls, rate = int(options["calls"]), float(options.get("rate", 0))
    with MockWeComServer(seed=11) as mock, httpx.Client() as client:
        token = client.get(
            mock.api_base_url + "gettoken",
            params={"corpid": mock.corp_id, "corpsecret": mock.corp_secret},
        ).json()["access_token"]  # before enable(): not part of the counted traffic
        setup = enable(options["service"], endpoint=options["endpoint"], hosts=[mock.host])
        assert setup.tracer_provider is not None
        setup.tracer_provider.add_span_processor(created)
        tracer = trace.get_tracer("fault-app")
        started = time.monotonic()
        job: Any = None
        for index in range(calls):
            if index % 2 == 0:
                job = tracer.start_span("job")
            begin = time.perf_counter()
            try:
                with trace.use_span(job, end_on_exit=False):
                    _call(client, mock, token, index)
            except Exception as error:
                exceptions.append(repr(error))
            durations.append(time.perf_counter() - begin)
            if index % 2 == 1 or index == calls - 1:
                job.end()
            if index % 100 == 0:
                with open(options["progress"], "w", encoding="utf-8") as out:
                    out.write(str(index))
            if rate:
                delay = started + (index + 1) / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
        sent_at = time.time()
        setup.shutdown()  # flushes what is still queued; the report includes it
    with record.lock:
        report = {
            "calls": calls,
            "durations": durations,
            "exceptions": exceptions,
            "created": record.created,
            "delivered": record.delivered,
            "given_up": record.given_up,
            "batches": record.batches,
            "sent_at": sent_at,
            "ended_at": time.time(),
        }
    with open(options["report"], "w", encoding="utf-8") as out:
        json.dump(report, out)


if __name__ == "__main__":
    main()

"""A small app run in a child process: ``enable()``, a few WeCom calls with httpx, exit.

argv[1] is a JSON object:
  enable: keyword arguments for enable() (``hosts`` is added from WECOM_HOST)
  preset_providers: set SDK providers with in-memory exporters before enable()
  block_sdk: make opentelemetry.sdk and the exporters unimportable
  duration_s: keep making calls for this long (exports happen meanwhile)
  instrument_first: call WeComInstrumentor().instrument() before enable()
  enable_twice: call enable() a second time
The app's report (token, errcodes, in-memory spans, call-log records) is written
as JSON to the file named by CHILD_REPORT.
"""

from __future__ import annotations

import importlib.abc
import json
import logging
import os
import sys
import time
from typing import Any


class _BlockSdk(importlib.abc.MetaPathFinder):
    """Pretend the ``sdk`` extra is not installed."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> None:
        if name.startswith(("opentelemetry.sdk", "opentelemetry.exporter")):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


class _RecordCollector(logging.Handler):
    """Keeps every record of the call logger with all its fields."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        fields = {key: str(value) for key, value in vars(record).items()}
        fields["formatted"] = self.format(record)
        self.records.append(fields)


def _preset_providers() -> Any:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from opentelemetry import metrics, trace

    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))
    return exporter


def _calls(client: Any, api: str, corp_id: str, corp_secret: str) -> dict[str, Any]:
    token = client.get(api + "gettoken", params={"corpid": corp_id, "corpsecret": corp_secret})
    access_token = token.json()["access_token"]
    sent = client.post(
        api + "message/send",
        params={"access_token": access_token},
        json={
            "touser": "zhangsan",
            "msgtype": "text",
            "agentid": 1000002,
            "text": {"content": "hi"},
        },
    )
    rejected = client.get(
        api + "user/get", params={"access_token": "canary-bad-token-5f1d", "userid": "zhangsan"}
    )
    return {
        "token": access_token,
        "errcodes": [token.json()["errcode"], sent.json()["errcode"], rejected.json()["errcode"]],
    }


def main() -> None:
    options = json.loads(sys.argv[1])
    if options.get("block_sdk"):
        sys.meta_path.insert(0, _BlockSdk())
    import httpx

    from opentelemetry.instrumentation.wecom import WeComInstrumentor, enable

    # Like an app: warnings and errors on stderr; the call-log records are kept for the report.
    console = logging.StreamHandler()
    console.setLevel(logging.WARNING)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(console)
    collector = _RecordCollector()
    call_logger = logging.getLogger("opentelemetry.instrumentation.wecom")
    call_logger.addHandler(collector)
    call_logger.setLevel(logging.INFO)

    report: dict[str, Any] = {}
    memory = _preset_providers() if options.get("preset_providers") else None
    if options.get("instrument_first"):
        WeComInstrumentor().instrument(hosts=[os.environ["WECOM_HOST"]])
    try:
        setup = enable(hosts=[os.environ["WECOM_HOST"]], **options.get("enable", {}))
    except ImportError as error:
        report["import_error"] = str(error)
    else:
        if options.get("enable_twice"):
            report["same_setup"] = enable() is setup
        report["built_tracer_provider"] = setup.tracer_provider is not None
        report["built_meter_provider"] = setup.meter_provider is not None
        api = os.environ["WECOM_API_BASE"]
        corp_id, corp_secret = os.environ["WECOM_CORP_ID"], os.environ["WECOM_CORP_SECRET"]
        deadline = time.monotonic() + options.get("duration_s", 0)
        with httpx.Client() as client:
            report.update(_calls(client, api, corp_id, corp_secret))
            while time.monotonic() < deadline:
                _calls(client, api, corp_id, corp_secret)
                time.sleep(0.05)
    if memory is not None:
        report["memory_spans"] = [span.name for span in memory.get_finished_spans()]
    report["call_log"] = collector.records
    report["main_ended_at"] = time.time()
    with open(os.environ["CHILD_REPORT"], "w", encoding="utf-8") as out:
        json.dump(report, out)


if __name__ == "__main__":
    main()

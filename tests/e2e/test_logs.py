"""The call log's destination in the local stack: a rotating JSON-lines file, scrubbed."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource

from tests._support import poll
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e
CANARY = "log-canary-7d1e"


def _records(stack: Stack, service: str) -> list[dict[str, Any]]:
    """Every log record of ``service`` in the collector's call-log file (OTLP JSON lines)."""
    path = stack.local.call_log
    if not path.exists():
        return []
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        for resource_logs in json.loads(line).get("resourceLogs", []):
            names = [
                a["value"].get("stringValue")
                for a in resource_logs["resource"]["attributes"]
                if a["key"] == "service.name"
            ]
            if names == [service]:
                for scope_logs in resource_logs.get("scopeLogs", []):
                    found.extend(scope_logs.get("logRecords", []))
    return found


def test_call_log_records_land_in_the_rotating_file_without_secrets(stack: Stack) -> None:
    service = "e2e-call-log"
    provider = LoggerProvider(resource=Resource.create({"service.name": service}))
    provider.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=stack.otlp_endpoint, insecure=True))
    )
    logger = logging.getLogger("e2e.call_log")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = LoggingHandler(logger_provider=provider)
    logger.addHandler(handler)
    try:
        logger.info(
            "wecom user/get status=business_error errcode=40014 duration=0.012s",
            extra={
                "wecom.api": "user/get",
                "wecom.errcode": 40014,
                "wecom.status": "business_error",
            },
        )
        # A stock HTTP library's own log line, as an app that exports all logs would send it.
        logger.info(
            "HTTP Request: GET https://qyapi.weixin.qq.com/cgi-bin/user/get?access_token=%s", CANARY
        )
        provider.force_flush()
    finally:
        logger.removeHandler(handler)
        provider.shutdown()

    records = poll(lambda: _records(stack, service), lambda found: len(found) >= 2, timeout=30)
    bodies = [record["body"]["stringValue"] for record in records]
    assert bodies[0].startswith("wecom user/get status=business_error errcode=40014")
    attributes = {a["key"]: a["value"] for a in records[0]["attributes"]}
    assert attributes["wecom.errcode"] == {"intValue": "40014"}
    assert bodies[1].endswith("user/get?access_token=REDACTED")
    assert CANARY not in stack.local.call_log.read_text(encoding="utf-8")

"""What example traces prove: the egress IP WeCom saw, versions, hosts, exceptions, token calls.

Every text taken from a span passes through the instrumentation's ``scrub`` once more, so no
secret reaches a report even from a span written by an older or foreign instrumentation.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Optional

from opentelemetry.instrumentation.wecom._extensions import TOKEN_APIS
from opentelemetry.instrumentation.wecom._redaction import scrub
from opentelemetry.instrumentation.wecom.diagnosis._model import (
    SpanView,
    TraceView,
)

# "..., hint: [...], from ip: 203.0.113.7, more info at ..." (IPv4 or IPv6).
_FROM_IP: Final = re.compile(r"from ip:\s*([0-9A-Fa-f:.]*[0-9A-Fa-f])")
_HINT: Final = re.compile(r",?\s*hint:\s*\[[^\]]*\]")
_MORE_INFO: Final = re.compile(r",?\s*more info at \S+")
_MAX_TEXT: Final = 120


def text(value: object, limit: int = _MAX_TEXT) -> str:
    """A span's free text fit for a report: scrubbed, one line, at most ``limit`` characters."""
    line = " ".join(scrub(str(value)).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def matches(span: SpanView, tags: Mapping[str, str]) -> bool:
    """Whether every tag equals the span attribute of that name, compared as Jaeger does."""
    return all(
        key in span.attributes and tag_text(span.attributes[key]) == value
        for key, value in tags.items()
    )


def tag_text(value: object) -> str:
    """A tag value as Jaeger compares it: ``true`` for True, ``42001`` for 42001."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def egress_ip(span: SpanView) -> Optional[str]:
    found = _FROM_IP.search(str(span.attributes.get("wecom.errmsg", "")))
    return found.group(1) if found else None


def exception_types(span: SpanView) -> list[str]:
    types = [
        str(event.attributes["exception.type"])
        for event in span.events
        if event.name == "exception" and "exception.type" in event.attributes
    ]
    error_type = span.attributes.get("error.type")
    if not types and isinstance(error_type, str) and not error_type.lstrip("-").isdigit():
        types.append(error_type)
    return types


@dataclass
class TraceFacts:
    """What a finding's example traces show, summed over them."""

    trace_ids: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    egress_ips: Counter[str] = field(default_factory=Counter)
    versions: Counter[str] = field(default_factory=Counter)
    hosts: Counter[str] = field(default_factory=Counter)
    exceptions: Counter[str] = field(default_factory=Counter)
    traces: dict[str, TraceView] = field(default_factory=dict)


def _describe(span: SpanView) -> str:
    attributes = span.attributes
    parts = [span.name]
    if "wecom.errcode" in attributes:
        parts.append(f"errcode {attributes['wecom.errcode']}")
    errmsg = attributes.get("wecom.errmsg")
    if errmsg:
        short = _MORE_INFO.sub("", _HINT.sub("", str(errmsg)))
        parts.append(f'"{text(short)}"')
    elif span.status == "error" and span.status_message:
        parts.append(f'"{text(span.status_message)}"')
    for kind, dropped in sorted(attributes.items()):
        if kind.startswith("wecom.message.invalid."):
            parts.append(f"{kind.rsplit('.', 1)[1]}={dropped}")
    parts.append(f"{span.duration_ns / 1e9:.3f} s")
    where = [
        f"{label} {span.resource[key]}"
        for key, label in (("service.version", "service.version"), ("host.name", "host"))
        if span.resource.get(key)
    ]
    return " ".join(parts) + (f" ({', '.join(where)})" if where else "")


def _token_calls(trace: TraceView, example: SpanView) -> Optional[str]:
    calls = [
        s for s in trace.spans if s is not example and s.attributes.get("wecom.api") in TOKEN_APIS
    ]
    if not calls:
        return None
    described = [
        f"{s.attributes.get('wecom.api')} errcode {s.attributes.get('wecom.errcode', '?')}"
        for s in calls[:3]
    ]
    return "token calls in the same trace: " + "; ".join(described)


def read(traces: Sequence[TraceView], tags: Sequence[Mapping[str, str]], limit: int) -> TraceFacts:
    """Facts from the first ``limit`` traces that have a span matching one of ``tags``."""
    facts = TraceFacts()
    for trace in traces:
        if len(facts.trace_ids) >= limit or trace.trace_id in facts.trace_ids:
            continue
        example = next(
            (span for span in trace.spans for wanted in tags if matches(span, wanted)), None
        )
        if example is None:
            continue
        facts.trace_ids.append(trace.trace_id)
        facts.traces[trace.trace_id] = trace
        line = f"trace {trace.trace_id}: {_describe(example)}"
        token = _token_calls(trace, example)
        facts.evidence.append(f"{line}; {token}" if token else line)
        ip = egress_ip(example)
        if ip:
            facts.egress_ips[ip] += 1
        for key, counter in (("service.version", facts.versions), ("host.name", facts.hosts)):
            if example.resource.get(key):
                counter[str(example.resource[key])] += 1
        for name in exception_types(example):
            facts.exceptions[name] += 1
    return facts

"""The demo's retries, token refreshes and silent discards: what spans several calls, or what
WeCom never reports as an error.

The counts come from the instrumentation's metrics (``wecom.client.retries``,
``wecom.token.refreshes``, ``wecom.message.discarded``, ``wecom.message.recipients``), the
example chain from the spans (:class:`ChainRecorder`), and the mock's own record of what it
really discarded sits next to the instrumentation's count.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Optional

from opentelemetry.sdk.metrics.export import MetricsData, NumberDataPoint
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.trace import format_trace_id

from opentelemetry.instrumentation.wecom._attributes import (
    DISCARDED_METRIC,
    ERROR_TYPE,
    RECIPIENTS_METRIC,
    RETRIES_METRIC,
    TOKEN_REFRESH_PROACTIVE,
    TOKEN_REFRESHES_METRIC,
    WECOM_AGENT_ID,
    WECOM_API,
    WECOM_MESSAGE_LIMIT,
    WECOM_RECIPIENT_KIND,
    WECOM_RETRY_ATTEMPT,
    WECOM_RETRY_REASON,
    WECOM_STATUS,
    WECOM_TOKEN_REFRESH_REASON,
)
from opentelemetry.instrumentation.wecom.demo.points import points
from opentelemetry.instrumentation.wecom.testing import DeliveryCounts

EXAMPLES = 3
_TRACES_KEPT = 64  # traces with a refresh after an auth error, remembered for the examples


@dataclass
class ChainRecorder(SpanProcessor):
    """Keeps a few retried calls whose chain also refreshed a token: the trace to look at."""

    examples: list[dict[str, Any]] = field(default_factory=list)
    _refreshed: dict[int, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def on_end(self, span: ReadableSpan) -> None:
        attributes = span.attributes or {}
        if span.context is None:
            return
        trace_id = span.context.trace_id
        refresh = attributes.get(WECOM_TOKEN_REFRESH_REASON)
        attempt = attributes.get(WECOM_RETRY_ATTEMPT)
        with self._lock:
            refreshed = isinstance(refresh, str) and refresh != TOKEN_REFRESH_PROACTIVE
            if refreshed and len(self._refreshed) < _TRACES_KEPT:
                self._refreshed[trace_id] = str(refresh)
            if attempt is None or len(self.examples) >= EXAMPLES:
                return
            if trace_id not in self._refreshed:
                return  # an example shows the whole story: failure, refresh, retry
            self.examples.append(
                {
                    "trace_id": format_trace_id(trace_id),
                    "api": attributes.get(WECOM_API),
                    "attempt": attempt,
                    "reason": attributes.get(WECOM_RETRY_REASON),
                    "refresh_reason": self._refreshed[trace_id],
                    "status": attributes.get(WECOM_STATUS),
                }
            )


def _sum_by(data: Optional[MetricsData], name: str, *keys: str) -> list[dict[str, Any]]:
    totals: Counter[tuple[Any, ...]] = Counter()
    for point in points(data, name, NumberDataPoint):
        attributes = point.attributes or {}
        totals[tuple(attributes.get(key) for key in keys)] += int(point.value)
    rows = [
        {**dict(zip(keys, values)), "count": count} for values, count in totals.items() if count
    ]
    rows.sort(key=lambda row: (-row["count"], [str(row[key]) for key in keys]))
    return rows


def chains_summary(
    data: Optional[MetricsData], recorder: ChainRecorder, mock: DeliveryCounts
) -> dict[str, Any]:
    """Retries, token refreshes, person-times and silent discards of the run, JSON-ready."""
    discarded = _sum_by(data, DISCARDED_METRIC, WECOM_AGENT_ID, WECOM_MESSAGE_LIMIT)
    return {
        "retries": _sum_by(data, RETRIES_METRIC, WECOM_API, WECOM_RETRY_REASON),
        "token_refreshes": _sum_by(
            data,
            TOKEN_REFRESHES_METRIC,
            WECOM_API,
            WECOM_TOKEN_REFRESH_REASON,
            WECOM_STATUS,
            ERROR_TYPE,
        ),
        "retry_chains": list(recorder.examples),
        "person_times": _sum_by(data, RECIPIENTS_METRIC, WECOM_AGENT_ID, WECOM_RECIPIENT_KIND),
        "silent_discards": {
            "counted": sum(row["count"] for row in discarded),
            "by_app": discarded,
            "mock_discarded": mock.total_discarded,
            "mock_delivered": mock.delivered,
        },
    }


def render_chains(chains: dict[str, Any]) -> list[str]:
    """The terminal lines: retries, refreshes, an example chain, person-times, discards."""
    lines = ["", "Retries and token refreshes (chains the instrumentation linked on its own)"]
    retries = chains["retries"]
    if retries:
        for row in retries:
            lines.append(
                f"  {row['wecom.api']} repeated after {row['wecom.retry.reason']} × {row['count']}"
            )
    else:
        lines.append("  no call repeated a failed one")
    for row in chains["token_refreshes"]:
        outcome = row["wecom.status"] + (f" {row['error.type']}" if row["error.type"] else "")
        reason = row["wecom.token.refresh.reason"] or "?"
        after = "proactive" if reason == TOKEN_REFRESH_PROACTIVE else f"after {reason}"
        lines.append(f"  {row['wecom.api']} {after}: {outcome} × {row['count']}")
    for example in chains["retry_chains"][:1]:
        lines.append(
            f"  a chain: {example['refresh_reason']} → token refresh → {example['api']} "
            f"attempt {example['attempt']} ({example['status']}), trace {example['trace_id']}"
        )
    discards = chains["silent_discards"]
    lines += ["", "Silent discards (WeCom answers errcode 0 and does not deliver)"]
    for row in discards["by_app"]:
        lines.append(
            f"  app {row['wecom.agent_id']}: {row['count']} deliveries discarded "
            f"({row['wecom.message.limit']})"
        )
    lines.append(
        f"  counted by the instrumentation: {discards['counted']}; "
        f"discarded by the mock WeCom: {discards['mock_discarded']}"
    )
    spent = ", ".join(
        f"app {row['wecom.agent_id']} {row['wecom.recipient.kind']} × {row['count']}"
        for row in chains["person_times"]
    )
    if spent:
        lines.append(f"  person-times sent (daily budget: account limit × 200): {spent}")
    return lines

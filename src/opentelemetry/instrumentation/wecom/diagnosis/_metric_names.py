"""The names Prometheus stores the package's metrics under (docs/telemetry.md, their "Prometheus"
rows): the stored source queries them, and every evidence line names the one it comes from."""

from __future__ import annotations

from typing import Final

#: ``wecom.client.duration``: calls (``_count``), latency buckets (``_bucket``), time (``_sum``).
CALLS: Final = "wecom_client_duration_seconds_count"
BUCKETS: Final = "wecom_client_duration_seconds_bucket"
SECONDS: Final = "wecom_client_duration_seconds_sum"
#: ``wecom.message.invalid_recipients``: recipients WeCom dropped from messages it sent.
RECIPIENTS: Final = "wecom_message_invalid_recipients_total"
#: ``wecom.message.discarded``: deliveries WeCom discarded silently over a per-member limit.
DISCARDED: Final = "wecom_message_discarded_total"

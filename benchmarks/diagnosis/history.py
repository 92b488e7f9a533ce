"""Two hours of a WeCom app's history: the metric points and the kept spans it would have stored.

The app has 20 APIs and two processes (each fetches its token once: the token APIs are not
among the 20). The first hour is the baseline; in the second hour it
lives through an incident: an untrusted egress IP (60020 on four APIs for 10 minutes), a
throttled ``message/send`` (45009 for 5 minutes) and a slow ``department/list`` (the last 15
minutes). Dropped recipients on ``message/send`` are chronic.

:func:`openmetrics` writes the scrapes Prometheus would have taken every 15 s, as OpenMetrics
text for ``promtool tsdb create-blocks-from openmetrics``; :func:`spans` yields the spans the
collector's tail sampler would have kept (every failure, 10 % of the healthy calls), with their
past timestamps, for Jaeger.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Optional, TextIO

APIS = (
    "message/send",
    "user/get",
    "department/list",
    "tag/list",
    "user/list",
    "user/simplelist",
    "appchat/send",
    "media/upload",
    "media/get",
    "externalcontact/list",
    "externalcontact/get",
    "checkin/getcheckindata",
    "oa/getapprovalinfo",
    "agent/get",
    "menu/get",
    "batch/getresult",
    "department/get",
    "user/convert_to_openid",
    "getcallbackip",
    "get_api_domain_ip",
)
BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
SCRAPE = 15
SERVICE = "bench-wecom-app"
PROCESSES = (("bench-a", "4.2.0", "host-a"), ("bench-b", "4.2.0", "host-b"))
UNTRUSTED = ("user/get", "department/list", "message/send", "tag/list")
EGRESS_IP = "203.0.113.7"


@dataclass(frozen=True)
class Incident:
    """Seconds from the start of the history at which each fault begins and ends."""

    ip: tuple[float, float] = (4200.0, 4800.0)
    throttle: tuple[float, float] = (5400.0, 5700.0)
    slow: tuple[float, float] = (6300.0, 7200.0)


@dataclass
class _Series:
    labels: dict[str, str]
    count: float = 0.0
    total: float = 0.0
    buckets: list[float] = field(default_factory=lambda: [0.0] * (len(BOUNDS) + 1))


def _within(moment: float, span: tuple[float, float]) -> bool:
    return span[0] <= moment < span[1]


def outcome(api: str, moment: float, incident: Incident) -> tuple[str, Optional[int]]:
    """``(wecom.status, errcode)`` of a call to ``api`` at ``moment`` s into the history."""
    if api in UNTRUSTED and _within(moment, incident.ip):
        return "business_error", 60020
    if api == "message/send" and _within(moment, incident.throttle):
        return "business_error", 45009
    return "ok", 0


def duration(api: str, moment: float, incident: Incident, rng: random.Random) -> float:
    if api == "department/list" and _within(moment, incident.slow):
        return max(0.3, rng.gauss(0.9, 0.2))
    return max(0.004, rng.lognormvariate(math.log(0.03), 0.5))


def calls_per_scrape(api_index: int, rng: random.Random) -> int:
    """Steady traffic: 6 to 22 calls per 15 s per process, a little noise."""
    return max(0, 6 + (api_index % 5) * 4 + rng.randint(-2, 2))


@dataclass
class History:
    """The generated history: its length, and how many calls, series and spans it holds."""

    start: float
    seconds: int = 7200
    incident: Incident = field(default_factory=Incident)
    seed: int = 9
    calls: int = 0
    series: int = 0

    @property
    def end(self) -> float:
        return self.start + self.seconds

    def _events(self) -> Iterator[tuple[float, str, str, str, Optional[int], float]]:
        """Every call: (time, process, api, status, errcode, duration), in time order."""
        rng = random.Random(self.seed)
        for tick in range(0, self.seconds, SCRAPE):
            for process, _, _ in PROCESSES:
                for index, api in enumerate(APIS):
                    for _ in range(calls_per_scrape(index, rng)):
                        moment = tick + rng.random() * SCRAPE
                        status, errcode = outcome(api, moment, self.incident)
                        took = duration(api, moment, self.incident, rng)
                        yield self.start + moment, process, api, status, errcode, took

    def openmetrics(self, out: TextIO) -> None:
        """The scrapes, family by family, in OpenMetrics text (``# EOF`` at the end)."""
        series: dict[tuple[str, str, str, Optional[int]], _Series] = {}
        recipients: dict[str, float] = {process: 0.0 for process, _, _ in PROCESSES}
        histogram: list[str] = []
        dropped: list[str] = []
        events = self._events()
        pending = next(events, None)
        for tick in range(SCRAPE, self.seconds + SCRAPE, SCRAPE):
            now = self.start + tick
            while pending is not None and pending[0] <= now:
                moment, process, api, status, errcode, took = pending
                key = (process, api, status, errcode)
                if key not in series:
                    labels = {
                        "job": SERVICE,
                        "instance": process,
                        "wecom_api": api,
                        "wecom_status": status,
                        "wecom_errcode": str(errcode),
                    }
                    if status != "ok":
                        labels["error_type"] = str(errcode)
                    series[key] = _Series(labels)
                entry = series[key]
                entry.count += 1
                entry.total += took
                entry.buckets[bisect.bisect_left(BOUNDS, took)] += 1
                if api == "message/send" and status == "ok" and moment % 97 < 1:
                    recipients[process] += 1
                self.calls += 1
                pending = next(events, None)
            for entry in series.values():
                histogram.extend(_histogram_lines(entry, now))
            for process, value in recipients.items():
                labels = _labels(
                    {
                        "job": SERVICE,
                        "instance": process,
                        "wecom_api": "message/send",
                        "wecom_recipient_kind": "invaliduser",
                    }
                )
                dropped.append(f"wecom_message_invalid_recipients_total{labels} {value} {now}")
        self.series = len(series) * (len(BOUNDS) + 3) + len(recipients) + len(PROCESSES)
        out.write("# TYPE wecom_client_duration_seconds histogram\n")
        out.write("# UNIT wecom_client_duration_seconds seconds\n")
        out.write("\n".join(histogram) + "\n")
        out.write("# TYPE wecom_message_invalid_recipients counter\n")
        out.write("\n".join(dropped) + "\n")
        out.write("# TYPE target_info gauge\n")
        for tick in range(SCRAPE, self.seconds + SCRAPE, SCRAPE):
            for process, version, host in PROCESSES:
                labels = _labels(
                    {
                        "job": SERVICE,
                        "instance": process,
                        "service_version": version,
                        "host_name": host,
                    }
                )
                out.write(f"target_info{labels} 1 {self.start + tick}\n")
        out.write("# EOF\n")

    def spans(
        self, healthy_share: float = 0.1
    ) -> Iterator[tuple[str, dict[str, object], float, float]]:
        """What the tail sampler keeps: ``(process, attributes, start, end)`` per span."""
        rng = random.Random(self.seed + 1)
        for moment, process, api, status, errcode, took in self._events():
            if status == "ok" and rng.random() >= healthy_share:
                continue
            attributes: dict[str, object] = {
                "wecom.api": api,
                "wecom.status": status,
                "wecom.errcode": errcode if errcode is not None else 0,
                "http.request.method": "POST" if api.endswith("send") else "GET",
                "server.address": "qyapi.weixin.qq.com",
            }
            if status != "ok":
                attributes["error.type"] = str(errcode)
                attributes["wecom.errmsg"] = (
                    f"errcode {errcode}, hint: [1796323679006789248849911], from ip: {EGRESS_IP}, "
                    f"more info at https://open.work.weixin.qq.com/devtool/query?e={errcode}"
                )
            yield process, attributes, moment - took, moment


def _labels(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def _histogram_lines(entry: _Series, now: float) -> list[str]:
    lines = []
    running = 0.0
    for bound, value in zip((*BOUNDS, math.inf), entry.buckets):
        running += value
        le = "+Inf" if math.isinf(bound) else repr(bound)
        labels = _labels({**entry.labels, "le": le})
        lines.append(f"wecom_client_duration_seconds_bucket{labels} {running} {now}")
    labels = _labels(entry.labels)
    lines.append(f"wecom_client_duration_seconds_count{labels} {entry.count} {now}")
    lines.append(f"wecom_client_duration_seconds_sum{labels} {entry.total} {now}")
    return lines

"""The demo's incident: which faults the mock injects, when, and what traffic meets them.

Everything is placed on the run's own time line as a fraction of its duration, so a 3 s test
run and the default 12 s run tell the same story: the on-call robot is flooded early (45009),
every access token dies a little before half-time (42001, then a refresh and a retry), a
monitoring loop pages the on-call member far more than 30 times a minute (WeCom silently
discards the excess, errcode 0), the server's egress
IP drops off the trusted list for a while (60020), some messages name people who left or lack a
licence (partial failures), and ``user/list`` is slow throughout.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from opentelemetry.instrumentation.wecom.testing import (
    Fault,
    Latency,
    Outcome,
    Scenario,
    TokenPolicy,
)

# Fractions of the run.
BURST_AT = 0.2
TOKEN_EXPIRY_AT = 0.4
PAGE_STORM_AT = 0.3
UNTRUSTED_IP = (0.6, 0.75)

# APIs that take an access token: the ones an IP outside the trusted list is refused on.
TOKEN_APIS = ("message/send", "user/get", "user/list", "department/list", "media/upload")
SLOW_API = "user/list"


@dataclass(frozen=True)
class Step:
    """One business operation of the traffic: run ``action`` at ``at`` seconds into the run."""

    at: float
    action: str


# Business operations (see driver.ACTIONS) and how often each is picked.
_WEIGHTS: dict[str, int] = {
    "notify_users": 30,  # httpx: message/send, sometimes to people who left
    "notify_team": 10,  # wechatpy: message/send
    "lookup_user": 22,  # wechatpy: user/get, now and then for an unknown userid
    "list_team": 10,  # wechatpy: user/list (the slow one)
    "list_departments": 8,  # wechatpy: department/list
    "upload_report": 6,  # httpx: media/upload
}


def webhook_limit(calls: int) -> int:
    """The robot's messages per minute: WeCom's 20, less for small runs so the burst still fits."""
    return max(4, min(20, calls // 12))


def build_scenario(duration: float, seed: int) -> Scenario:
    """The fault scenario for a run of ``duration`` seconds."""
    start, end = (duration * f for f in UNTRUSTED_IP)
    untrusted = tuple(
        Fault(api=api, outcome=Outcome(errcode=60020), after=start, until=end, name="untrusted-ip")
        for api in TOKEN_APIS
    )
    slow = Fault(api=SLOW_API, outcome=_slow(), name="slow-user-list")
    return Scenario(
        faults=(*untrusted, slow),
        tokens=TokenPolicy(expire_at=(duration * TOKEN_EXPIRY_AT,)),
        seed=seed,
        name="wecom-otel demo incident",
        description="robot flood (45009), token expiry (42001), untrusted IP (60020), "
        "partial recipients, slow user/list",
    )


def build_plan(calls: int, duration: float, seed: int) -> list[Step]:
    """``calls`` steps spread evenly over ``duration`` seconds, the robot burst included."""
    rng = random.Random(seed)
    limit = webhook_limit(calls)
    burst = limit + max(2, limit // 2)
    regular = max(0, calls - burst - 1)  # one operation is the page storm
    interval = duration / max(1, regular)
    actions, weights = zip(*_WEIGHTS.items())
    steps = [Step(i * interval, rng.choices(actions, weights)[0]) for i in range(regular)]
    steps += [Step(duration * BURST_AT, "alert_robot")] * burst
    steps.append(Step(duration * PAGE_STORM_AT, "page_oncall"))
    steps.sort(key=lambda step: step.at)
    return steps


def _slow() -> Outcome:
    return Outcome(latency=Latency("normal", 0.6, 0.15, minimum=0.2))

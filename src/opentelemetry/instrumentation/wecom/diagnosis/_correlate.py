"""Fault correlation: fold symptoms into their root cause, one draft finding per cause, ranked.

Anomalies that overlap in time are read together. Four symptoms have a known root cause:

- expired-token errcodes while the token API itself fails: the token could not be renewed, so
  the root cause is whatever makes the token API fail (a wrong secret, an untrusted IP ...);
- a rate limit on the token API while the app fetches tokens needlessly: no token cache;
- slow calls on an API that also fails at the network level: the timeouts themselves;
- a surge of calls on an API that WeCom throttles: the surge explains the throttling.

What remains is grouped by cause; causes that start within minutes of each other are
mentioned together, and the drafts are ranked by severity, then impact x specificity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Final

from opentelemetry.instrumentation.wecom._extensions import TOKEN_APIS
from opentelemetry.instrumentation.wecom.diagnosis._catalogue import CATALOGUE
from opentelemetry.instrumentation.wecom.diagnosis._detect import ERROR_RATIO, Anomaly
from opentelemetry.instrumentation.wecom.diagnosis._model import SEVERITIES, Scalar, Severity
from opentelemetry.instrumentation.wecom.diagnosis._observe import InstanceId, Observations
from opentelemetry.instrumentation.wecom.diagnosis._series import total

#: Anomalies this close (seconds) in time are read as one incident.
GROUP_GAP_SECONDS: Final = 120.0
#: A failure ratio at which calls to the affected APIs are mostly failing.
CRITICAL_RATIO: Final = 0.25
#: Failures of an errcode absent from the baseline that make it "frequent".
NEW_AND_FREQUENT: Final = 3
#: Causes that stop every call they touch, whatever their share.
BLOCKING: Final = frozenset({"ip_not_trusted", "token_refresh_failing"})


@dataclass
class Draft:
    """The anomalies one cause explains, before the cause's wording is applied."""

    cause: str
    anomalies: list[Anomaly]
    related: list[str] = field(default_factory=list)
    severity: Severity = "info"

    @property
    def first(self) -> int:
        return min(a.first for a in self.anomalies)

    @property
    def last(self) -> int:
        return max(a.last for a in self.anomalies)

    @property
    def apis(self) -> list[str]:
        return sorted({api for a in self.anomalies for api in a.apis})

    @property
    def errcodes(self) -> list[int]:
        """The root cause's errcodes first (those of folded symptoms after), most failed first."""
        counts: dict[int, float] = {}
        root: set[int] = set()
        for anomaly in self.anomalies:
            for code in anomaly.errcodes:
                counts[code] = counts.get(code, 0.0) + anomaly.failed
                if not anomaly.folded:
                    root.add(code)
        return sorted(counts, key=lambda code: (code not in root, -counts[code], code))

    @property
    def failed(self) -> float:
        return sum(a.failed for a in self.anomalies)

    @property
    def impact(self) -> float:
        return sum(a.impact for a in self.anomalies)

    @property
    def new(self) -> bool:
        return all(a.new for a in self.anomalies)

    @property
    def score(self) -> float:
        return self.impact * CATALOGUE[self.cause].specificity

    @property
    def by_instance(self) -> dict[InstanceId, float]:
        out: dict[InstanceId, float] = {}
        for anomaly in self.anomalies:
            for who, value in anomaly.by_instance.items():
                out[who] = out.get(who, 0.0) + value
        return out

    @property
    def facts(self) -> dict[str, Scalar]:
        out: dict[str, Scalar] = {}
        for anomaly in sorted(self.anomalies, key=lambda a: a.impact):
            out.update(anomaly.facts)
        return out

    def signals(self) -> set[str]:
        return {a.signal for a in self.anomalies}


def _overlap(a: Anomaly, b: Anomaly, gap: int) -> bool:
    return a.first <= b.last + gap and b.first <= a.last + gap


def _fold(symptom: Anomaly, into: Anomaly, why: str) -> None:
    """Make ``symptom`` part of ``into``'s cause, saying why."""
    symptom.evidence.insert(0, why)
    symptom.cause = into.cause
    symptom.folded = True


def _root_causes(anomalies: list[Anomaly], gap: int) -> None:
    token_failures = [
        a for a in anomalies if a.signal == "failures" and a.apis & TOKEN_APIS and a.failed > 0
    ]
    for symptom in [a for a in anomalies if a.cause == "token_expired"]:
        overlapping = [a for a in token_failures if _overlap(symptom, a, gap)]
        if overlapping:
            root = max(overlapping, key=lambda a: a.failed)
            _fold(
                symptom,
                root,
                f"{', '.join(sorted(symptom.apis))} kept an expired token while "
                f"{', '.join(sorted(root.apis))} failed: it could not be renewed",
            )
    for overfetch in [a for a in anomalies if a.cause == "token_overfetch"]:
        for symptom in anomalies:
            if (
                symptom.cause == "rate_limited"
                and symptom.apis & TOKEN_APIS
                and _overlap(symptom, overfetch, gap)
            ):
                _fold(symptom, overfetch, "the token API was throttled by the fetches")
    network = [a for a in anomalies if a.cause == "network_error" and a.signal == "failures"]
    for symptom in [a for a in anomalies if a.cause == "latency_degradation"]:
        if any(symptom.apis & n.apis and _overlap(symptom, n, gap) for n in network):
            _fold(symptom, network[0], "the slow calls are the ones timing out")
    causes = [a for a in anomalies if a.signal in ("failures", "token_fetch")]
    for symptom in [a for a in anomalies if a.signal == "rate" and a.cause == "unexplained"]:
        overlapping = [c for c in causes if symptom.apis & c.apis and _overlap(symptom, c, gap)]
        if overlapping:
            root = max(overlapping, key=lambda a: a.impact)
            why = {
                "rate_limited": "the surge of calls is what WeCom throttled",
                "token_overfetch": "the surge of token calls is the missing cache",
            }.get(root.cause, "the surge of calls is the app retrying the failures")
            _fold(symptom, root, why)


def _severity(draft: Draft, obs: Observations) -> Severity:
    floors = [a.severity for a in draft.anomalies if a.severity is not None]
    failures = [a for a in draft.anomalies if a.signal == "failures"]
    level: Severity = "info"
    if failures:
        failed = sum(a.failed for a in failures)
        apis = sorted({api for a in failures for api in a.apis})
        calls = obs.calls_between(apis, min(a.first for a in failures), draft.last)
        ratio = failed / calls if calls else 1.0
        if draft.cause in BLOCKING or ratio >= CRITICAL_RATIO:
            level = "critical"
        elif ratio >= ERROR_RATIO or (draft.new and failed >= NEW_AND_FREQUENT):
            level = "warning"
    signals = draft.signals()
    if signals & {"latency", "token_fetch", "pipeline", "probe", "discards"}:
        level = _worse(level, "warning")
    if "recipients" in signals and draft.new:
        level = _worse(level, "warning")
    for floor in floors:
        level = _worse(level, floor)
    if level == "critical" and draft.cause == "token_expired" and renews_its_token(draft, obs):
        level = "warning"  # WeCom ended tokens early and the app got new ones: it recovers
    return level


def token_renewals(draft: Draft, obs: Observations) -> float:
    """Token API calls that succeeded while the draft's failures lasted."""
    first = max(draft.first, obs.frame.window_from)
    return sum(
        total(series.counts, first, draft.last + 1)
        for series in obs.calls
        if series.key.api in TOKEN_APIS and not series.key.failed
    )


def renews_its_token(draft: Draft, obs: Observations) -> bool:
    """Whether the app fetched a new token at least once per expired-token failure: a client
    that refreshes on 42001/40014, hit by tokens WeCom ended early, not a stale cache."""
    return draft.failed > 0 and token_renewals(draft, obs) >= draft.failed


def _worse(a: Severity, b: Severity) -> Severity:
    return a if SEVERITIES.index(a) <= SEVERITIES.index(b) else b


def correlate(anomalies: list[Anomaly], obs: Observations) -> list[Draft]:
    """One draft per cause, root causes first: by severity, then impact x specificity."""
    gap = max(1, math.ceil(GROUP_GAP_SECONDS / obs.frame.grid.step))
    anomalies = list(anomalies)
    _root_causes(anomalies, gap)
    by_cause: dict[str, Draft] = {}
    for anomaly in anomalies:
        by_cause.setdefault(anomaly.cause, Draft(anomaly.cause, [])).anomalies.append(anomaly)
    drafts = list(by_cause.values())
    for draft in drafts:
        draft.severity = _severity(draft, obs)
    _relate(drafts, gap, obs)
    drafts.sort(key=lambda d: (SEVERITIES.index(d.severity), -d.score, -d.failed, d.cause))
    return drafts


def _relate(drafts: list[Draft], gap: int, obs: Observations) -> None:
    """Say which other causes began within minutes of each draft's start."""
    for draft in drafts:
        near = [
            other
            for other in drafts
            if other is not draft and abs(other.first - draft.first) <= gap
        ]
        if near:
            seconds = max(abs(o.first - draft.first) for o in near) * obs.frame.grid.step
            names = ", ".join(sorted(o.cause for o in near))
            when = f"within {seconds:.0f} s of" if seconds else "at the same time as"
            draft.related.append(f"began {when}: {names} (read them as one incident)")

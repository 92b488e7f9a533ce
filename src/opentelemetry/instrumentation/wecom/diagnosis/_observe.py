"""What the source returned, arranged for detection: per API, per instance, per failure kind."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Optional

from opentelemetry.instrumentation.wecom.diagnosis._series import add_into, total
from opentelemetry.instrumentation.wecom.diagnosis._source import (
    CallSeries,
    CollectorHealth,
    DiscardSeries,
    Grid,
    Instance,
    LatencySeries,
    RecipientSeries,
)

InstanceId = tuple[str, str]  # (service, instance)


@dataclass(frozen=True)
class Frame:
    """The grid split into the baseline (before ``window_from``) and the window.

    Steps from ``settled_until`` on end within the source's data lag of the clock: calls
    made then may not have arrived yet.
    """

    grid: Grid
    window_from: int
    settled_until: int

    @property
    def window(self) -> range:
        return range(self.window_from, self.grid.count)

    @property
    def has_baseline(self) -> bool:
        return self.window_from > 0

    def ongoing(self, last: int) -> bool:
        """Whether activity whose last step is ``last`` may still be going on."""
        return last >= min(self.settled_until, self.grid.count) - 2


@dataclass(frozen=True)
class FailureKind:
    """Failed calls of one API with one errcode or, lacking one, one error type."""

    api: str
    errcode: Optional[int]
    error_type: Optional[str]

    @property
    def label(self) -> str:
        if self.errcode is not None:
            return str(self.errcode)
        return self.error_type or "unknown error"


@dataclass
class Failures:
    kind: FailureKind
    counts: list[float]
    by_instance: dict[InstanceId, float] = field(default_factory=dict)


@dataclass
class Observations:
    """Everything detection reads, summed the ways it needs."""

    frame: Frame
    calls: Sequence[CallSeries]
    latency: Mapping[str, LatencySeries]
    recipients: Sequence[RecipientSeries]
    discards: Sequence[DiscardSeries]
    instances: Mapping[InstanceId, Instance]
    collector: CollectorHealth
    api_calls: dict[str, list[float]] = field(default_factory=dict)
    api_failed: dict[str, list[float]] = field(default_factory=dict)
    instance_calls: dict[InstanceId, list[float]] = field(default_factory=dict)
    failures: dict[FailureKind, Failures] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        frame: Frame,
        *,
        calls: Sequence[CallSeries],
        latency: Sequence[LatencySeries],
        recipients: Sequence[RecipientSeries],
        discards: Sequence[DiscardSeries],
        instances: Sequence[Instance],
        collector: CollectorHealth,
    ) -> Observations:
        width = frame.grid.count
        api_calls: dict[str, list[float]] = defaultdict(lambda: [0.0] * width)
        api_failed: dict[str, list[float]] = defaultdict(lambda: [0.0] * width)
        per_instance: dict[InstanceId, list[float]] = defaultdict(lambda: [0.0] * width)
        failures: dict[FailureKind, Failures] = {}
        for series in calls:
            key = series.key
            add_into(api_calls[key.api], series.counts)
            add_into(per_instance[(key.service, key.instance)], series.counts)
            if not key.failed:
                continue
            add_into(api_failed[key.api], series.counts)
            kind = FailureKind(key.api, key.errcode if key.errcode else None, key.error_type)
            entry = failures.setdefault(kind, Failures(kind, [0.0] * width))
            add_into(entry.counts, series.counts)
            who = (key.service, key.instance)
            entry.by_instance[who] = entry.by_instance.get(who, 0.0) + total(
                series.counts, frame.window_from
            )
        known = {(i.service, i.instance): i for i in instances}
        for who in per_instance:
            known.setdefault(who, Instance(*who))
        return cls(
            frame=frame,
            calls=calls,
            latency={series.api: series for series in latency},
            recipients=recipients,
            discards=discards,
            instances=known,
            collector=collector,
            api_calls=dict(api_calls),
            api_failed=dict(api_failed),
            instance_calls=dict(per_instance),
            failures=failures,
        )

    def window_calls(self, api: Optional[str] = None) -> float:
        if api is not None:
            return total(self.api_calls.get(api, ()), self.frame.window_from)
        return sum(total(v, self.frame.window_from) for v in self.api_calls.values())

    def window_failed(self, api: Optional[str] = None) -> float:
        if api is not None:
            return total(self.api_failed.get(api, ()), self.frame.window_from)
        return sum(total(v, self.frame.window_from) for v in self.api_failed.values())

    def calls_between(self, apis: Sequence[str], first: int, last: int) -> float:
        first = max(first, self.frame.window_from)
        return sum(total(self.api_calls.get(api, ()), first, last + 1) for api in apis)

    def baseline_calls(self, api: str) -> float:
        return total(self.api_calls.get(api, ()), 0, self.frame.window_from)

    def version_of(self, who: InstanceId) -> Optional[str]:
        instance = self.instances.get(who)
        return instance.version if instance else None

    def services(self) -> list[str]:
        return sorted({service for service, _ in self.instance_calls})

"""What the diagnosis engine asks of the stored data, at the level it reasons on.

A :class:`Source` answers in calls, latencies, dropped recipients, process facts, collector
health and example traces over a :class:`Grid` of equal time steps, never in PromQL, so that
two very different stores can answer: Prometheus + Jaeger (``_stored.StoredSource``) and the
spans a process kept in memory (``_memory.MemorySource``).

Every series is per step: value ``i`` covers ``(grid.start + i * step, grid.start + (i + 1) *
step]``. Counts are deltas (calls that ended in that step), never cumulative totals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Optional, Protocol

from opentelemetry.instrumentation.wecom.diagnosis._model import TraceView

#: Upper bounds (seconds) of the ``wecom.client.duration`` buckets, +Inf last: the advice in
#: ``_telemetry.DURATION_BUCKETS``, which is what Prometheus stores as ``le``.
Bounds = tuple[float, ...]


@dataclass(frozen=True)
class Grid:
    """``count`` equal steps of ``step`` seconds from ``start`` (unix seconds)."""

    start: float
    step: float
    count: int

    @property
    def end(self) -> float:
        return self.start + self.step * self.count

    def step_end(self, index: int) -> float:
        """The end of step ``index`` (where a Prometheus range query evaluates it)."""
        return self.start + self.step * (index + 1)

    def step_start(self, index: int) -> float:
        return self.start + self.step * index

    def index(self, moment: float) -> Optional[int]:
        """The step ``moment`` falls in (a step includes its end), None outside the grid."""
        if moment <= self.start or moment > self.end:
            return None
        return min(self.count - 1, max(0, math.ceil((moment - self.start) / self.step) - 1))

    def zeros(self) -> list[float]:
        return [0.0] * self.count


@dataclass(frozen=True)
class CallKey:
    """What the ``wecom.client.duration`` histogram distinguishes, plus who made the call.

    ``service`` is the ``job`` label (``service.namespace/service.name``), ``instance`` the
    ``service.instance.id``; ``errcode`` is None when the answer carried none (a timeout, an
    HTTP error page), ``error_type`` None on success.
    """

    service: str
    instance: str
    api: str
    status: str
    errcode: Optional[int]
    error_type: Optional[str]

    @property
    def failed(self) -> bool:
        return self.status != "ok"


@dataclass(frozen=True)
class CallSeries:
    key: CallKey
    counts: tuple[float, ...]


@dataclass(frozen=True)
class LatencySeries:
    """The duration histogram of one API, every status together, step by step.

    ``buckets[i][j]`` calls of step ``i`` took at most ``bounds[j]`` seconds and more than
    ``bounds[j - 1]`` (not cumulative); ``sums[i]`` is their total duration in seconds.
    """

    api: str
    bounds: Bounds
    buckets: tuple[tuple[float, ...], ...]
    sums: tuple[float, ...]


@dataclass(frozen=True)
class RecipientSeries:
    """Recipients WeCom dropped from messages that were sent (``wecom.message.invalid.*``)."""

    api: str
    kind: str
    counts: tuple[float, ...]


@dataclass(frozen=True)
class DiscardSeries:
    """Deliveries of accepted messages WeCom discards silently (``wecom.message.discarded``).

    ``limit`` is the per-member limit that was exceeded (``member_per_minute``,
    ``member_per_hour``, ``appchat_member_per_minute``), empty when the source cannot tell.
    """

    api: str
    limit: str
    counts: tuple[float, ...]


@dataclass(frozen=True)
class Instance:
    """One process that made WeCom calls, with the resource facts it reported."""

    service: str
    instance: str
    version: Optional[str] = None
    host: Optional[str] = None


@dataclass(frozen=True)
class CollectorHealth:
    """The pipeline's own view of itself, per step (empty mappings when there is nothing).

    ``failed``: items an exporter failed to send or to enqueue (lost), per ``exporter``;
    ``sent``: items an exporter sent, per exporter name (its queue drains while it sends);
    ``refused``: items a receiver refused (memory limiter), per ``receiver``;
    ``queue``: items waiting in an exporter's sending queue, per ``exporter``, and
    ``queue_capacity`` its size; ``probe``: whether the collector's ``http_check`` reached
    WeCom in that step (None: no probe result), per URL; ``down``: scrape targets of the
    pipeline that did not answer (``up == 0``), e.g. ``jaeger``, per step.
    ``observed`` is False when the source has no collector at all (the in-memory source).
    """

    observed: bool = False
    failed: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    sent: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    refused: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    queue: Mapping[str, tuple[Optional[float], ...]] = field(default_factory=dict)
    queue_capacity: Mapping[str, float] = field(default_factory=dict)
    probe: Mapping[str, tuple[Optional[bool], ...]] = field(default_factory=dict)
    down: Mapping[str, tuple[bool, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class TraceQuery:
    """Example traces of ``service`` between ``start`` and ``end`` (unix seconds) that have a
    span whose attributes equal ``tags`` (compared as strings, as Jaeger does)."""

    service: str
    start: float
    end: float
    tags: Mapping[str, str]
    limit: int


class Source(Protocol):
    """Where a diagnosis reads from. Methods raise ``BackendUnavailable`` when they cannot."""

    def locations(self) -> Mapping[str, str]:
        """``{"metrics": where, "traces": where}`` for the report (no credentials)."""
        ...

    def lag(self) -> float:
        """Seconds by which the newest data trails the clock (export, batch, scrape)."""
        ...

    def notes(self) -> Sequence[str]:
        """What limits the data itself (spans forgotten, series dropped), for the report."""
        ...

    def services(self) -> Sequence[str]:
        """Every service with WeCom call data the source still holds."""
        ...

    def calls(self, service: Optional[str], grid: Grid) -> Sequence[CallSeries]: ...

    def latency(self, service: Optional[str], grid: Grid) -> Sequence[LatencySeries]: ...

    def recipients(self, service: Optional[str], grid: Grid) -> Sequence[RecipientSeries]: ...

    def discards(self, service: Optional[str], grid: Grid) -> Sequence[DiscardSeries]: ...

    def instances(self, service: Optional[str], grid: Grid) -> Sequence[Instance]: ...

    def collector(self, grid: Grid) -> CollectorHealth: ...

    def traces(self, query: TraceQuery) -> Sequence[TraceView]:
        """At most ``query.limit`` traces, newest first; BackendUnavailable when the trace
        store cannot be reached (the engine then diagnoses from metrics alone)."""
        ...

"""Anomaly detection per API, per process and for the pipeline, against the baseline.

Each detector reads :class:`Observations` and returns :class:`Anomaly` values already tagged
with the cause the catalogue points to. The rules and thresholds are the ones
``docs/diagnosis.md`` documents; every evidence line names the metric it comes from.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Final, Optional

from opentelemetry.instrumentation.wecom._extensions import TOKEN_APIS
from opentelemetry.instrumentation.wecom.diagnosis._catalogue import (
    API_LIMIT_PER_MINUTE,
    ROBOT_API,
    ROBOT_LIMIT_PER_MINUTE,
    TOKEN_LIFETIME,
    classify_failure,
)
from opentelemetry.instrumentation.wecom.diagnosis._format import percent
from opentelemetry.instrumentation.wecom.diagnosis._metric_names import (
    BUCKETS,
    CALLS,
    DISCARDED,
    RECIPIENTS,
)
from opentelemetry.instrumentation.wecom.diagnosis._model import Scalar, Severity
from opentelemetry.instrumentation.wecom.diagnosis._observe import (
    FailureKind,
    InstanceId,
    Observations,
)
from opentelemetry.instrumentation.wecom.diagnosis._series import (
    active_steps,
    mean_and_spread,
    peak_per_minute,
    quantile,
    run_start,
    sum_buckets,
    total,
)

#: What each per-member delivery limit means (docs/telemetry.md, "Messages").
DELIVERY_LIMITS: Final = {
    "member_per_minute": "a member got over 30 messages a minute from the app",
    "member_per_hour": "a member got over 1,000 messages an hour from the app",
    "appchat_member_per_minute": "an app chat got over 200 messages a minute",
}

#: Error ratio above which failures of an API are anomalous (the issue's and the alert's 5 %).
ERROR_RATIO: Final = 0.05
#: p99 above which an API is slow whatever its baseline (and the tail sampler keeps traces).
P99_LIMIT: Final = 3.0
#: Calls slower than this count as slow when p99 is over the limit (a bucket bound).
SLOW_BOUND: Final = 2.5
#: A latency or rate step is anomalous 3 standard deviations above the baseline mean...
SIGMAS: Final = 3.0
#: ...and at least this much above it, so a flat baseline does not make noise anomalous.
MIN_LATENCY_RISE: Final = 0.05
MIN_LATENCY_RATIO: Final = 1.5
MIN_RATE_RATIO: Final = 2.0
MIN_RATE_PER_MINUTE: Final = 10.0
#: A latency rise or a surge of calls counts when it lasts: a run of this share of the window's
#: steps (with calls) and at least this many steps, so a short burst of noise does not.
SUSTAINED_SHARE: Final = 0.25
SUSTAINED_STEPS: Final = 3
#: Baseline steps with calls needed before a 3-sigma rule applies.
MIN_BASELINE_STEPS: Final = 3
#: Calls needed before latency says anything.
MIN_LATENCY_CALLS: Final = 5
#: An API at this share of WeCom's documented limit is close to being throttled.
NEAR_LIMIT: Final = 0.8
#: A process that calls gettoken this many times, and this many times more than token
#: lifetimes need, has no working token cache.
OVERFETCH_MIN: Final = 10
OVERFETCH_FACTOR: Final = 5.0
#: A sending queue that stays non-empty this long (and this many steps) is not delivering.
STUCK_QUEUE_SECONDS: Final = 15.0
STUCK_QUEUE_STEPS: Final = 3
#: Steps of quiet that still belong to the same run of failures ("since when").
RUN_GAP_SECONDS: Final = 120.0


def clock(moment: float) -> str:
    """A moment for an evidence line: ``11:02:03 UTC``."""
    return datetime.fromtimestamp(moment, tz=timezone.utc).strftime("%H:%M:%S UTC")


def count(value: float) -> str:
    return f"{value:,.0f}"


@dataclass
class Anomaly:
    """One anomalous signal, with the cause it points to and what proves it.

    ``first``/``last`` are step indexes (``first`` may lie in the baseline when the problem
    was already there); ``failed`` the failed calls it accounts for in the window;
    ``impact`` what ranks it (failed calls, slow calls, dropped recipients, needless token
    calls, lost telemetry items); ``tags`` the span attributes of example traces to fetch.
    """

    cause: str
    first: int
    last: int
    apis: set[str] = field(default_factory=set)
    errcodes: set[int] = field(default_factory=set)
    failed: float = 0.0
    impact: float = 0.0
    new: bool = True
    severity: Optional[Severity] = None
    evidence: list[str] = field(default_factory=list)
    facts: dict[str, Scalar] = field(default_factory=dict)
    tags: list[dict[str, str]] = field(default_factory=list)
    by_instance: dict[InstanceId, float] = field(default_factory=dict)
    kinds: list[FailureKind] = field(default_factory=list)
    # The kind of signal, for the correlation rules: failures, latency, rate, recipients,
    # discards, token_fetch, pipeline, probe.
    signal: str = "failures"
    # A symptom folded into another cause by correlation (its errcodes come after the root's).
    folded: bool = False


def _span(obs: Observations, first: int, last: int) -> str:
    grid = obs.frame.grid
    return f"from {clock(grid.step_start(first))} to {clock(grid.step_end(last))}"


def failures(obs: Observations) -> list[Anomaly]:
    """Failed calls, one anomaly per (API, errcode or error type) that failed in the window."""
    frame, anomalies = obs.frame, []
    gap = max(1, math.ceil(RUN_GAP_SECONDS / frame.grid.step))
    for kind, entry in sorted(obs.failures.items(), key=lambda item: str(item[0])):
        steps = active_steps(entry.counts, frame.window_from)
        if not steps:
            continue
        failed = total(entry.counts, frame.window_from)
        first, last = run_start(entry.counts, steps[0], gap), steps[-1]
        before = total(entry.counts, 0, frame.window_from)
        anomaly = Anomaly(
            cause=classify_failure(kind),
            first=first,
            last=last,
            apis={kind.api},
            errcodes={kind.errcode} if kind.errcode is not None else set(),
            failed=failed,
            impact=failed,
            new=before == 0,
            by_instance=dict(entry.by_instance),
            kinds=[kind],
        )
        if kind.errcode is not None:
            anomaly.tags.append({"wecom.api": kind.api, "wecom.errcode": str(kind.errcode)})
        elif kind.error_type:
            anomaly.tags.append({"wecom.api": kind.api, "error.type": kind.error_type})
        anomalies.append(anomaly)
    return anomalies


def failure_evidence(anomalies: list[Anomaly], obs: Observations) -> list[str]:
    """One line per errcode (or error type) across the APIs it hit, then what the baseline says."""
    frame = obs.frame
    by_label: dict[str, list[Anomaly]] = {}
    for anomaly in anomalies:
        for kind in anomaly.kinds:
            by_label.setdefault(kind.label, []).append(anomaly)
    lines, news, standing = [], [], []
    for label, group in sorted(by_label.items(), key=lambda item: -sum(a.failed for a in item[1])):
        failed = sum(a.failed for a in group)
        apis = sorted({api for a in group for api in a.apis})
        first = min(max(a.first, frame.window_from) for a in group)
        last = max(a.last for a in group)
        calls = obs.calls_between(apis, first, last)
        what = f"errcode {label}" if group[0].kinds[0].errcode is not None else label
        per_api = (
            " (" + ", ".join(f"{a.kinds[0].api} {count(a.failed)}" for a in group) + ")"
            if len(group) > 1
            else ""
        )
        lines.append(
            f"{count(failed)} calls to {', '.join(apis[:6])}{' ...' if len(apis) > 6 else ''} "
            f"failed with {what}{per_api}: {percent(failed, calls)} of their {count(calls)} calls "
            f"{_span(obs, first, last)} ({CALLS})"
        )
        if all(a.new for a in group):
            if any(obs.baseline_calls(api) for api in apis):
                news.append(what)
        else:
            standing.append(what)
    if news:
        lines.append(f"{', '.join(news)}: none in the baseline before the window (new)")
    if standing:
        lines.append(
            f"{', '.join(standing)}: also in the baseline before the window (a standing problem)"
        )
    return lines


def _window_buckets(obs: Observations, api: str) -> tuple[list[float], float]:
    series = obs.latency[api]
    rows = series.buckets[obs.frame.window_from :]
    return sum_buckets(rows, len(series.bounds)), float(sum(sum(row) for row in rows))


def latency(obs: Observations) -> list[Anomaly]:
    """Slow APIs: p99 over 3 s, or step means 3 sigma (and 50 ms, and 1.5x) above baseline."""
    frame, anomalies = obs.frame, []
    for api in sorted(obs.latency):
        series = obs.latency[api]
        window, calls = _window_buckets(obs, api)
        if calls < MIN_LATENCY_CALLS:
            continue
        p99 = quantile(0.99, series.bounds, window)
        anomaly = Anomaly("latency_degradation", frame.grid.count, -1, {api}, signal="latency")
        if p99 is not None and p99 > P99_LIMIT:
            slow_columns = [j for j, bound in enumerate(series.bounds) if bound > SLOW_BOUND]
            slow_steps = [
                i for i in frame.window if sum(series.buckets[i][j] for j in slow_columns) > 0
            ]
            slow = sum(series.buckets[i][j] for i in frame.window for j in slow_columns)
            anomaly.first, anomaly.last = slow_steps[0], slow_steps[-1]
            anomaly.impact = slow
            anomaly.facts["p99_seconds"] = round(p99, 3)
            anomaly.evidence.append(
                f"{api} p99 is {p99:.2f} s over the window (limit {P99_LIMIT:g} s): {count(slow)} "
                f"of {count(calls)} calls took over {SLOW_BOUND:g} s ({BUCKETS})"
            )
        _against_baseline(obs, api, anomaly)
        if anomaly.last >= 0:
            anomaly.new = not _baseline_was_slow(obs, api)
            anomaly.tags.append({"wecom.api": api})
            anomalies.append(anomaly)
    return anomalies


def _step_means(obs: Observations, api: str, steps: range) -> dict[int, tuple[float, float]]:
    series = obs.latency[api]
    means = {}
    for index in steps:
        calls = sum(series.buckets[index])
        if calls > 0:
            means[index] = (series.sums[index] / calls, calls)
    return means


def _against_baseline(obs: Observations, api: str, anomaly: Anomaly) -> None:
    frame = obs.frame
    baseline = _step_means(obs, api, range(frame.window_from))
    if len(baseline) < MIN_BASELINE_STEPS:
        return
    mean, spread = mean_and_spread([value for value, _ in baseline.values()])
    threshold = max(mean + SIGMAS * spread, mean + MIN_LATENCY_RISE, mean * MIN_LATENCY_RATIO)
    window = _step_means(obs, api, frame.window)
    flagged = _longest_run(sorted(window), lambda index: window[index][0] > threshold)
    needed = max(SUSTAINED_STEPS, math.ceil(SUSTAINED_SHARE * len(window)))
    if len(flagged) < needed or sum(window[index][1] for index in flagged) < MIN_LATENCY_CALLS:
        return
    slow = sum(window[index][1] for index in flagged)
    worst = max(window[index][0] for index in flagged)
    anomaly.first = min(anomaly.first, flagged[0])
    anomaly.last = max(anomaly.last, flagged[-1])
    anomaly.impact = max(anomaly.impact, slow)
    anomaly.facts.update(baseline_mean_seconds=round(mean, 4), window_mean_seconds=round(worst, 4))
    anomaly.evidence.append(
        f"{api} mean latency reached {worst:.3f} s in {len(flagged)} steps "
        f"{_span(obs, flagged[0], flagged[-1])} ({count(slow)} calls), against a baseline of "
        f"{mean:.3f} s ± {spread:.3f} s ({BUCKETS}, _sum / _count)"
    )


def _longest_run(steps: list[int], flagged: Callable[[int], bool]) -> list[int]:
    """The longest run of consecutive ``steps`` (steps with calls) that are all flagged."""
    best: list[int] = []
    run: list[int] = []
    for index in steps:
        if flagged(index):
            run.append(index)
            if len(run) > len(best):
                best = list(run)
        else:
            run = []
    return best


def _baseline_was_slow(obs: Observations, api: str) -> bool:
    series = obs.latency[api]
    rows = series.buckets[: obs.frame.window_from]
    p99 = quantile(0.99, series.bounds, sum_buckets(rows, len(series.bounds)))
    return p99 is not None and p99 > P99_LIMIT


def rates(obs: Observations) -> list[Anomaly]:
    """Call rates near WeCom's documented limits, and surges 3 sigma above the baseline."""
    frame, step, anomalies = obs.frame, obs.frame.grid.step, []
    for api in sorted(obs.api_calls):
        counts = obs.api_calls[api]
        peak, at = peak_per_minute(counts, step, frame.window_from)
        limit = ROBOT_LIMIT_PER_MINUTE if api == ROBOT_API else API_LIMIT_PER_MINUTE
        if peak >= NEAR_LIMIT * limit:
            anomaly = Anomaly("rate_limited", at, at, {api}, impact=0.0, signal="rate")
            anomaly.severity = "warning"
            anomaly.facts.update(peak_calls_per_minute=round(peak), limit_per_minute=limit)
            anomaly.evidence.append(
                f"{api} peaked at {count(peak)} calls/min at {clock(frame.grid.step_end(at))}, "
                f"{percent(peak, limit)} of WeCom's limit of {count(limit)}/min ({CALLS})"
            )
            anomalies.append(anomaly)
        surge = _surge(obs, api)
        if surge is not None:
            anomalies.append(surge)
    return anomalies


def _surge(obs: Observations, api: str) -> Optional[Anomaly]:
    frame, step = obs.frame, obs.frame.grid.step
    counts = obs.api_calls[api]
    active = active_steps(counts[: frame.window_from])
    if not active or frame.window_from - active[0] < MIN_BASELINE_STEPS:
        return None
    mean, spread = mean_and_spread(counts[active[0] : frame.window_from])
    threshold = max(mean + SIGMAS * spread, mean * MIN_RATE_RATIO, MIN_RATE_PER_MINUTE * step / 60)
    settled = list(range(frame.window_from, min(frame.settled_until, frame.grid.count)))
    flagged = _longest_run(settled, lambda index: counts[index] > threshold)
    if len(flagged) < max(SUSTAINED_STEPS, math.ceil(SUSTAINED_SHARE * len(settled))):
        return None
    worst = max(counts[index] for index in flagged) * 60.0 / step
    anomaly = Anomaly("unexplained", flagged[0], flagged[-1], {api}, signal="rate")
    anomaly.facts.update(
        peak_calls_per_minute=round(worst), baseline_calls_per_minute=round(mean * 60 / step)
    )
    anomaly.evidence.append(
        f"calls to {api} rose to {count(worst)}/min {_span(obs, flagged[0], flagged[-1])}, "
        f"against {count(mean * 60 / step)}/min ± {count(spread * 60 / step)} in the baseline "
        f"({CALLS})"
    )
    return anomaly


def recipients(obs: Observations) -> list[Anomaly]:
    """Recipients WeCom dropped from messages it otherwise sent (errcode 0)."""
    frame = obs.frame
    per_api: dict[str, dict[str, tuple[float, float]]] = {}
    steps: dict[str, list[int]] = {}
    for series in obs.recipients:
        dropped = total(series.counts, frame.window_from)
        before = total(series.counts, 0, frame.window_from)
        if dropped <= 0:
            continue
        per_api.setdefault(series.api, {})[series.kind] = (dropped, before)
        steps.setdefault(series.api, []).extend(active_steps(series.counts, frame.window_from))
    anomalies = []
    for api, kinds in sorted(per_api.items()):
        dropped = sum(value for value, _ in kinds.values())
        before = sum(value for _, value in kinds.values())
        active = sorted(steps[api])
        anomaly = Anomaly(
            "recipients_unreachable",
            active[0],
            active[-1],
            {api},
            impact=dropped,
            new=before == 0,
            signal="recipients",
        )
        anomaly.facts["recipients_dropped"] = int(dropped)
        listed = ", ".join(f"{kind} {count(value)}" for kind, (value, _) in sorted(kinds.items()))
        anomaly.evidence.append(
            f"WeCom dropped {count(dropped)} recipients of {api} that it otherwise sent "
            f"({listed}) {_span(obs, active[0], active[-1])} ({RECIPIENTS})"
        )
        anomaly.tags.append({"wecom.api": api, "wecom.message.partial_failure": "true"})
        anomalies.append(anomaly)
    return anomalies


def discards(obs: Observations) -> list[Anomaly]:
    """Deliveries WeCom discards without an errcode: a per-member limit, silently."""
    frame = obs.frame
    by_api: dict[str, list[tuple[str, tuple[float, ...]]]] = {}
    for series in obs.discards:
        if total(series.counts, frame.window_from) > 0:
            by_api.setdefault(series.api, []).append((series.limit, series.counts))
    anomalies = []
    for api, rows in sorted(by_api.items()):
        lost = sum(total(counts, frame.window_from) for _, counts in rows)
        before = sum(total(counts, 0, frame.window_from) for _, counts in rows)
        steps = sorted({i for _, counts in rows for i in active_steps(counts, frame.window_from)})
        anomaly = Anomaly(
            "rate_limited",
            steps[0],
            steps[-1],
            {api},
            impact=lost,
            new=before == 0,
            severity="warning",
            signal="discards",
        )
        anomaly.facts["discarded_deliveries"] = int(lost)
        why = "; ".join(
            sorted(
                {DELIVERY_LIMITS.get(limit, "a member over WeCom's limits") for limit, _ in rows}
            )
        )
        anomaly.evidence.append(
            f"WeCom silently discarded {count(lost)} deliveries of accepted {api} messages "
            f"({why}) {_span(obs, steps[0], steps[-1])}: errcode 0, nothing failed to see "
            f"({DISCARDED})"
        )
        anomalies.append(anomaly)
    return anomalies


def token_fetches(obs: Observations) -> list[Anomaly]:
    """Processes that get a new token far more often than a token's lifetime needs.

    Only successful fetches count: retries of a failing gettoken are token_refresh_failing.
    """
    frame, step = obs.frame, obs.frame.grid.step
    fetches: dict[InstanceId, list[float]] = {}
    for series in obs.calls:
        if series.key.api in TOKEN_APIS and not series.key.failed:
            who = (series.key.service, series.key.instance)
            row = fetches.setdefault(who, [0.0] * frame.grid.count)
            for index, value in enumerate(series.counts):
                row[index] += value
    anomalies = []
    for who, row in sorted(fetches.items()):
        made = total(row, frame.window_from)
        busy = active_steps(obs.instance_calls[who], frame.window_from)
        if made < OVERFETCH_MIN or not busy:
            continue
        alive = (busy[-1] - busy[0] + 1) * step
        needed = 1 + alive / TOKEN_LIFETIME
        if made <= OVERFETCH_FACTOR * needed:
            continue
        business = total(obs.instance_calls[who], frame.window_from) - made
        fetched = active_steps(row, frame.window_from)
        anomaly = Anomaly(
            "token_overfetch",
            fetched[0],
            fetched[-1],
            {api for api in TOKEN_APIS if any(s.key.api == api for s in obs.calls)},
            impact=made - needed,
            new=total(row, 0, frame.window_from) <= OVERFETCH_FACTOR,
            signal="token_fetch",
            by_instance={who: made},
        )
        anomaly.facts.update(token_calls=int(made), business_calls=int(business))
        version = obs.version_of(who)
        process = f"{who[0]} instance {who[1]}" + (
            f" (service.version {version})" if version else ""
        )
        anomaly.evidence.append(
            f"{process} fetched a token {count(made)} times in {alive:.0f} s "
            f"({count(made * 60 / alive)}/min) for {count(business)} other calls; tokens live "
            f"{TOKEN_LIFETIME:.0f} s, so about {needed:.0f} fetch(es) would do ({CALLS})"
        )
        anomaly.tags.append({"wecom.api": "gettoken"})
        anomalies.append(anomaly)
    return anomalies


def _runs(values: Mapping[str, tuple[float, ...]], obs: Observations) -> dict[str, float]:
    return {
        name: total(row, obs.frame.window_from)
        for name, row in values.items()
        if total(row, obs.frame.window_from) > 0
    }


def pipeline(obs: Observations) -> list[Anomaly]:
    """The collector losing, refusing or holding back telemetry; backends it cannot reach."""
    health, frame = obs.collector, obs.frame
    if not health.observed:
        return []
    anomaly = Anomaly("telemetry_loss", frame.grid.count, -1, signal="pipeline")
    trouble: list[str] = []
    lost = _runs(health.failed, obs)
    refused = _runs(health.refused, obs)
    for name, value in sorted(lost.items()):
        _mark(anomaly, health.failed[name], obs)
        trouble.append(f"exporter {name} lost {count(value)} items")
        anomaly.evidence.append(
            f"the collector's exporter {name} failed to send {count(value)} items in the window "
            f"(otelcol_exporter_send_failed_* / enqueue_failed_*): they are lost"
        )
    for name, value in sorted(refused.items()):
        _mark(anomaly, health.refused[name], obs)
        trouble.append(f"receiver {name} refused {count(value)} items")
        anomaly.evidence.append(
            f"the collector's receiver {name} refused {count(value)} items "
            f"(otelcol_receiver_refused_*): the memory limiter is shedding load"
        )
    anomaly.impact = sum(lost.values()) + sum(refused.values())
    anomaly.facts["items_lost"] = int(sum(lost.values()))
    for name, row in sorted(health.queue.items()):
        stuck = _stuck(row, health.sent.get(name), obs)
        if stuck is None:
            continue
        first, last, peak = stuck
        trouble.append(f"exporter {name} is not delivering ({count(peak)} items queued)")
        anomaly.first, anomaly.last = min(anomaly.first, first), max(anomaly.last, last)
        anomaly.impact = max(anomaly.impact, peak)
        capacity = health.queue_capacity.get(name)
        of = f" of {count(capacity)}" if capacity else ""
        anomaly.evidence.append(
            f"the sending queue of {name} held up to {count(peak)}{of} items "
            f"{_span(obs, first, last)} and sent none (otelcol_exporter_queue_size, "
            f"otelcol_exporter_sent_*): its backend is not accepting data"
        )
        anomaly.facts["queued_items"] = int(peak)
    for name, row in sorted(health.down.items()):
        down = [index for index in frame.window if row[index]]
        if down:
            trouble.append(f"{name} is down")
            anomaly.first = min(anomaly.first, down[0])
            anomaly.last = max(anomaly.last, down[-1])
            anomaly.evidence.append(
                f"Prometheus could not scrape {name} {_span(obs, down[0], down[-1])} (up == 0)"
            )
    if anomaly.last < 0:
        return []
    anomaly.facts["trouble"] = "; ".join(trouble)
    anomaly.severity = "warning"
    return [anomaly]


def probe(obs: Observations) -> list[Anomaly]:
    """The collector's http_check could not reach WeCom: the network, not the app."""
    frame, anomalies = obs.frame, []
    for url, row in sorted(obs.collector.probe.items()):
        checked = [index for index in frame.window if row[index] is not None]
        failing = [index for index in checked if row[index] is False]
        if len(failing) < 2:
            continue
        anomaly = Anomaly("network_error", failing[0], failing[-1], signal="probe")
        anomaly.impact = float(len(failing))
        anomaly.severity = "warning"
        anomaly.facts["probe_url"] = url
        anomaly.evidence.append(
            f"the collector's probe of {url} failed in {len(failing)} of {len(checked)} steps "
            f"{_span(obs, failing[0], failing[-1])} (httpcheck_status)"
        )
        anomalies.append(anomaly)
    return anomalies


def _mark(anomaly: Anomaly, row: tuple[float, ...], obs: Observations) -> None:
    steps = active_steps(row, obs.frame.window_from)
    if steps:
        anomaly.first = min(anomaly.first, steps[0])
        anomaly.last = max(anomaly.last, steps[-1])


def _stuck(
    queue: tuple[Optional[float], ...], sent: Optional[tuple[float, ...]], obs: Observations
) -> Optional[tuple[int, int, float]]:
    """The longest run of steps in which the queue held items and the exporter sent none.

    A queue that batches (``sending_queue.batch``) is rarely empty; it is stuck only when
    nothing leaves it. Without the exporter's sent counts, a non-empty queue is enough.
    """
    frame = obs.frame
    need = max(STUCK_QUEUE_STEPS, math.ceil(STUCK_QUEUE_SECONDS / frame.grid.step))
    best: Optional[tuple[int, int, float]] = None
    start: Optional[int] = None
    for index in [*frame.window, frame.grid.count]:
        held = index < frame.grid.count and (queue[index] or 0) > 0
        idle = sent is None or index >= frame.grid.count or sent[index] <= 0
        if held and idle:
            start = index if start is None else start
            continue
        if start is not None and index - start >= need:
            peak = max(value or 0.0 for value in queue[start:index])
            if best is None or index - start > best[1] - best[0] + 1:
                best = (start, index - 1, peak)
        start = None
    return best


def detect(obs: Observations) -> list[Anomaly]:
    """Every anomaly of the window, from every detector."""
    return [
        *failures(obs),
        *latency(obs),
        *rates(obs),
        *recipients(obs),
        *discards(obs),
        *token_fetches(obs),
        *pipeline(obs),
        *probe(obs),
    ]

"""``diagnose()``: read a window and its baseline from a source, detect, correlate, explain.

1. The window (``--since`` or ``--start/--end``) and the hour before it (the baseline) are cut
   into equal steps: about 60 in the window, at most 240 in the baseline.
2. One read per kind of data (calls, latency, recipients, processes, pipeline health),
   concurrently: a bounded number of queries whatever the number of APIs.
3. Detection (``_detect``), correlation into one draft per cause (``_correlate``).
4. A bounded number of example traces per finding (``_evidence``); when the trace store is
   down the diagnosis goes on from metrics alone and says so.
5. Words and remediation per cause (``_wording``), the :class:`Diagnosis`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Callable, Final, Optional, Union

from opentelemetry.instrumentation.wecom.diagnosis._catalogue import CATALOGUE
from opentelemetry.instrumentation.wecom.diagnosis._correlate import Draft, correlate
from opentelemetry.instrumentation.wecom.diagnosis._detect import detect, failure_evidence
from opentelemetry.instrumentation.wecom.diagnosis._errors import BackendUnavailable
from opentelemetry.instrumentation.wecom.diagnosis._evidence import TraceFacts, read
from opentelemetry.instrumentation.wecom.diagnosis._model import (
    ApiSeries,
    ApiSummary,
    Diagnosis,
    ErrcodeSummary,
    Finding,
    TraceView,
    Window,
)
from opentelemetry.instrumentation.wecom.diagnosis._observe import Frame, Observations
from opentelemetry.instrumentation.wecom.diagnosis._series import quantile, sum_buckets, total
from opentelemetry.instrumentation.wecom.diagnosis._source import Grid, Source, TraceQuery
from opentelemetry.instrumentation.wecom.diagnosis._wording import WORDING
from opentelemetry.instrumentation.wecom.errcodes import explain

Moment = Union[datetime, float]
Span = Union[timedelta, float]

DEFAULT_SINCE: Final = timedelta(minutes=15)
DEFAULT_BASELINE: Final = timedelta(hours=1)
#: Steps the window is cut into (about), and the most the baseline may have.
WINDOW_STEPS: Final = 60
MAX_BASELINE_STEPS: Final = 240
#: Step lengths in seconds, so that steps fall on round times.
_NICE_STEPS: Final = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600)
#: Example traces kept per finding, traces asked for per search, searches per finding,
#: findings that get example traces.
TRACES_PER_FINDING: Final = 3
TRACES_PER_SEARCH: Final = 5
SEARCHES_PER_FINDING: Final = 2
FINDINGS_WITH_TRACES: Final = 8
#: Evidence lines per finding.
MAX_EVIDENCE: Final = 12


def choose_step(seconds: float) -> float:
    """The round step that cuts ``seconds`` into about :data:`WINDOW_STEPS` steps."""
    wanted = seconds / WINDOW_STEPS
    return float(next((s for s in _NICE_STEPS if s >= wanted), _NICE_STEPS[-1]))


def _seconds(value: Moment) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


def _span_seconds(value: Span) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def frame_for(start: float, end: float, baseline: float, now: float, lag: float) -> Frame:
    """The grid over baseline + window (its step from :func:`choose_step`)."""
    step = choose_step(end - start)
    window_steps = max(1, math.ceil((end - start) / step - 1e-9))
    baseline_steps = min(MAX_BASELINE_STEPS, math.ceil(baseline / step - 1e-9))
    count = window_steps + baseline_steps
    grid = Grid(end - count * step, step, count)
    settled = next((i for i in range(count) if grid.step_end(i) > now - lag), count)
    return Frame(grid, baseline_steps, settled)


def diagnose(
    source: Optional[Source] = None,
    *,
    service: Optional[str] = None,
    start: Optional[Moment] = None,
    end: Optional[Moment] = None,
    since: Span = DEFAULT_SINCE,
    baseline: Span = DEFAULT_BASELINE,
    prometheus: Optional[str] = None,
    jaeger: Optional[str] = None,
    timeout: float = 10.0,
    clock: Callable[[], float] = time.time,
) -> Diagnosis:
    """Diagnose WeCom calls of ``service`` (all services when None) over a window.

    The window is ``[start, end]``; without ``start`` it is the ``since`` before ``end``
    (default 15 minutes), without ``end`` it ends at ``clock()``. ``baseline`` before the
    window (default 1 hour) is what "normal" means. ``source`` defaults to Prometheus and
    Jaeger at ``prometheus``/``jaeger`` (``WECOM_OTEL_PROMETHEUS_URL``,
    ``WECOM_OTEL_JAEGER_URL``, then the local stack's ports).

    Raises :class:`BackendUnavailable` when the metrics backend cannot be read, ValueError
    for a window that ends before it starts. A trace store that is down is not an error:
    the diagnosis comes from metrics alone and its ``notes`` say so.
    """
    if source is None:
        from opentelemetry.instrumentation.wecom.diagnosis._stored import (  # noqa: PLC0415
            StoredSource,
        )

        source = StoredSource(prometheus=prometheus, jaeger=jaeger, timeout=timeout)
    now = clock()
    end_s = _seconds(end) if end is not None else now
    start_s = _seconds(start) if start is not None else end_s - _span_seconds(since)
    if start_s >= end_s:
        raise ValueError(f"the window must start before it ends: {_utc(start_s)} >= {_utc(end_s)}")
    window = Window(_utc(start_s), _utc(end_s))
    known = list(source.services())
    if service is not None and service not in known:
        listed = ", ".join(sorted(known)[:10]) or "none"
        note = (
            f"unknown service {service!r}: {source.locations().get('metrics', 'the source')} "
            f"holds no WeCom calls from it (services with data: {listed})"
        )
        return Diagnosis(service, window, 0, 0, (), notes=(note,), sources=source.locations())
    frame = frame_for(start_s, end_s, _span_seconds(baseline), now, source.lag())
    obs = _observe(source, service, frame)
    drafts = correlate(detect(obs), obs)
    notes = [
        *source.notes(),
        *_notes(obs, service, start=start_s, end=end_s, now=now, lag=source.lag()),
    ]
    facts = _example_traces(source, service, obs, drafts, notes)
    findings = tuple(_finding(draft, obs, facts.get(id(draft), TraceFacts())) for draft in drafts)
    traces = _unique_traces(facts)
    return Diagnosis(
        service=service,
        window=window,
        calls=round(obs.window_calls()),
        failed_calls=round(obs.window_failed()),
        findings=findings,
        apis=_api_summaries(obs),
        errcodes=_errcode_summaries(obs),
        recipients_dropped=round(sum(total(r.counts, frame.window_from) for r in obs.recipients)),
        series=_series(obs),
        traces=traces,
        notes=tuple(notes),
        sources=source.locations(),
    )


def _observe(source: Source, service: Optional[str], frame: Frame) -> Observations:
    grid = frame.grid
    with ThreadPoolExecutor(max_workers=6) as pool:
        calls = pool.submit(source.calls, service, grid)
        latency = pool.submit(source.latency, service, grid)
        recipients = pool.submit(source.recipients, service, grid)
        discards = pool.submit(source.discards, service, grid)
        instances = pool.submit(source.instances, service, grid)
        collector = pool.submit(source.collector, grid)
        return Observations.build(
            frame,
            calls=calls.result(),
            latency=latency.result(),
            recipients=recipients.result(),
            discards=discards.result(),
            instances=instances.result(),
            collector=collector.result(),
        )


def _notes(
    obs: Observations, service: Optional[str], *, start: float, end: float, now: float, lag: float
) -> list[str]:
    notes = []
    who = f"from {service}" if service else ""
    if obs.window_calls() == 0:
        notes.append(
            f"no WeCom calls {who} between {_utc(start):%Y-%m-%d %H:%M:%S} and "
            f"{_utc(end):%H:%M:%S} UTC".replace("  ", " ")
        )
    if end > now - lag and lag > 0:
        notes.append(
            f"the last {min(lag, end - start):.0f} s of the window may be incomplete: data "
            f"reaches the backends up to {lag:.0f} s late (SDK export interval, collector "
            f"batch, scrape interval)"
        )
    if obs.frame.has_baseline and not any(
        total(row, 0, obs.frame.window_from) for row in obs.api_calls.values()
    ):
        notes.append("no baseline: no WeCom calls in the hour before the window")
    return notes


def _queries(
    draft: Draft, obs: Observations, service: Optional[str], lag: float
) -> list[TraceQuery]:
    """Trace searches for one finding, over the steps its anomaly covers.

    The metrics show a call up to ``lag`` seconds (export, batch, scrape) after its span
    started, so the search begins that much, and one step, before the first anomalous step.
    """
    grid = obs.frame.grid
    first = max(draft.first, obs.frame.window_from)
    start = grid.step_start(first) - lag - grid.step
    end = grid.step_end(max(draft.last, first))
    services = [service] if service else sorted({s for s, _ in draft.by_instance})
    services = services or obs.services()[:2]
    ranked = sorted(draft.anomalies, key=lambda a: -a.impact)
    tags = [tag for anomaly in ranked for tag in anomaly.tags]
    queries = []
    for tag in tags[:SEARCHES_PER_FINDING]:
        for name in services[:1]:
            # Jaeger knows a service by service.name; the job label adds the namespace.
            queries.append(
                TraceQuery(name.rsplit("/", 1)[-1], start, end + grid.step, tag, TRACES_PER_SEARCH)
            )
    return queries


def _example_traces(
    source: Source,
    service: Optional[str],
    obs: Observations,
    drafts: Sequence[Draft],
    notes: list[str],
) -> dict[int, TraceFacts]:
    plans = {
        id(draft): (draft, _queries(draft, obs, service, source.lag()))
        for draft in drafts[:FINDINGS_WITH_TRACES]
    }
    queries = [query for _, planned in plans.values() for query in planned]
    if not queries:
        return {}
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(source.traces, query) for query in queries]
        results: list[Sequence[TraceView]] = []
        failure: Optional[BackendUnavailable] = None
        for future in futures:
            try:
                results.append(future.result())
            except BackendUnavailable as error:
                failure = failure or error
                results.append(())
    if failure is not None:
        notes.append(
            f"no example traces: {failure}; the findings come from metrics alone and lack "
            f"the evidence traces carry (egress IP, versions, exceptions)"
        )
    answers = iter(results)
    facts = {}
    for key, (_, planned) in plans.items():
        traces = [trace for _ in planned for trace in next(answers)]
        facts[key] = read(traces, [query.tags for query in planned], TRACES_PER_FINDING)
    return facts


def _unique_traces(facts: dict[int, TraceFacts]) -> tuple[TraceView, ...]:
    seen: dict[str, TraceView] = {}
    for fact in facts.values():
        for trace_id in fact.trace_ids:
            trace = fact.traces.get(trace_id)
            if trace is not None and trace_id not in seen:
                seen[trace_id] = trace  # scrubbed when it became a TraceView (_otlp)
    return tuple(seen.values())


def _finding(draft: Draft, obs: Observations, traces: TraceFacts) -> Finding:
    words = WORDING[draft.cause](draft, obs, traces)
    grid, frame = obs.frame.grid, obs.frame
    failures = [a for a in draft.anomalies if a.signal == "failures"]
    others = [
        line
        for anomaly in sorted(draft.anomalies, key=lambda a: -a.impact)
        for line in anomaly.evidence
    ]
    evidence = [
        *words.evidence,
        *failure_evidence(failures, obs),
        *others,
        *draft.related,
        *traces.evidence,
    ]
    details = {**draft.facts, **words.details}
    return Finding(
        cause=draft.cause,
        severity=draft.severity,
        summary=words.summary,
        started_at=_utc(grid.step_start(draft.first)),
        ended_at=None if frame.ongoing(draft.last) else _utc(grid.step_end(draft.last)),
        apis=tuple(draft.apis),
        errcodes=tuple(draft.errcodes),
        failed_calls=round(draft.failed),
        evidence=tuple(dict.fromkeys(evidence))[:MAX_EVIDENCE],
        trace_ids=tuple(traces.trace_ids),
        remediation=words.remediation,
        calls=round(obs.calls_between(draft.apis, draft.first, draft.last)),  # in the window
        details={"title": CATALOGUE[draft.cause].title, **details},
    )


def _api_summaries(obs: Observations) -> tuple[ApiSummary, ...]:
    summaries = []
    for api in sorted(obs.api_calls):
        calls = obs.window_calls(api)
        if calls <= 0:
            continue
        p99 = None
        series = obs.latency.get(api)
        if series is not None:
            rows = series.buckets[obs.frame.window_from :]
            p99 = quantile(0.99, series.bounds, sum_buckets(rows, len(series.bounds)))
        summaries.append(ApiSummary(api, round(calls), round(obs.window_failed(api)), _round(p99)))
    return tuple(sorted(summaries, key=lambda s: (-s.failed_calls, -s.calls, s.api)))


def _round(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value, 4)


def _errcode_summaries(obs: Observations) -> tuple[ErrcodeSummary, ...]:
    counts: dict[int, float] = {}
    apis: dict[int, set[str]] = {}
    for kind, entry in obs.failures.items():
        failed = total(entry.counts, obs.frame.window_from)
        if kind.errcode is None or failed <= 0:
            continue
        counts[kind.errcode] = counts.get(kind.errcode, 0.0) + failed
        apis.setdefault(kind.errcode, set()).add(kind.api)
    summaries = []
    for code, failed in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        info = explain(code)
        summaries.append(
            ErrcodeSummary(
                code,
                round(failed),
                tuple(sorted(apis[code])),
                info.meaning,
                info.category,
                info.retryable,
                info.remediation,
            )
        )
    return tuple(summaries)


def _series(obs: Observations) -> tuple[ApiSeries, ...]:
    frame, grid = obs.frame, obs.frame.grid
    out = []
    for api in sorted(obs.api_calls):
        calls = obs.api_calls[api]
        if total(calls, frame.window_from) <= 0:
            continue
        failed = obs.api_failed.get(api, [0.0] * grid.count)
        latency = obs.latency.get(api)
        p99s = tuple(
            _round(quantile(0.99, latency.bounds, latency.buckets[i])) if latency else None
            for i in frame.window
        )
        out.append(
            ApiSeries(
                api=api,
                step_seconds=grid.step,
                timestamps=tuple(grid.step_end(i) for i in frame.window),
                calls=tuple(calls[i] for i in frame.window),
                errors=tuple(failed[i] for i in frame.window),
                p99_seconds=p99s,
            )
        )
    return tuple(out)

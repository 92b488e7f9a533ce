"""Each cause in words: its summary, its remediation and the facts a script may read.

Remediation starts from the errcode knowledge base (``errcodes.explain``) and is made
specific with what was found: the egress IP to trust, the throttled API and its peak rate, the
version that introduced the bad requests, the process without a token cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Final, Optional

from opentelemetry.instrumentation.wecom._extensions import TOKEN_APIS
from opentelemetry.instrumentation.wecom.diagnosis._catalogue import (
    API_LIMIT_PER_MINUTE,
    ROBOT_API,
    ROBOT_LIMIT_PER_MINUTE,
    http_status,
)
from opentelemetry.instrumentation.wecom.diagnosis._correlate import (
    Draft,
    renews_its_token,
    token_renewals,
)
from opentelemetry.instrumentation.wecom.diagnosis._detect import clock, count
from opentelemetry.instrumentation.wecom.diagnosis._evidence import TraceFacts
from opentelemetry.instrumentation.wecom.diagnosis._format import counted, percent
from opentelemetry.instrumentation.wecom.diagnosis._model import Scalar
from opentelemetry.instrumentation.wecom.diagnosis._observe import Observations
from opentelemetry.instrumentation.wecom.diagnosis._series import active_steps, peak_per_minute
from opentelemetry.instrumentation.wecom.errcodes import explain

#: Share of a finding's failures one version must account for to be named.
VERSION_SHARE: Final = 0.9


@dataclass
class Words:
    summary: str
    remediation: str
    evidence: list[str] = field(default_factory=list)
    details: dict[str, Scalar] = field(default_factory=dict)


def _apis(draft: Draft, limit: int = 4) -> str:
    apis = draft.apis
    shown = ", ".join(apis[:limit])
    return shown + (f" and {len(apis) - limit} more" if len(apis) > limit else "")


def _codes(draft: Draft) -> str:
    codes = draft.errcodes
    if not codes:
        return ""
    return ", ".join(f"{code} ({explain(code).meaning})" for code in codes[:3])


def _kb(draft: Draft) -> str:
    """The knowledge base's remediation for the draft's most frequent errcode."""
    return explain(draft.errcodes[0]).remediation if draft.errcodes else ""


@dataclass(frozen=True)
class Deploy:
    version: str
    share: float
    first_seen: float
    others: tuple[str, ...]
    other_calls: float


def deploy(draft: Draft, obs: Observations) -> Optional[Deploy]:
    """The service.version that accounts for the failures, when other versions did not fail."""
    failing = draft.by_instance
    by_version: dict[str, float] = {}
    for who, failed in failing.items():
        version = obs.version_of(who)
        if version:
            by_version[version] = by_version.get(version, 0.0) + failed
    if not by_version:
        return None
    version, failed = max(by_version.items(), key=lambda item: item[1])
    if failed < VERSION_SHARE * sum(failing.values()):
        return None
    mine = [who for who in obs.instance_calls if obs.version_of(who) == version]
    others = [who for who in obs.instance_calls if obs.version_of(who) not in (version, None)]
    starts = [active_steps(obs.instance_calls[who]) for who in mine]
    first = min((steps[0] for steps in starts if steps), default=draft.first)
    other_calls = sum(sum(obs.instance_calls[who]) for who in others)
    versions = tuple(sorted({str(obs.version_of(who)) for who in others}))
    share = failed / sum(failing.values())
    return Deploy(version, share, obs.frame.grid.step_start(first), versions, other_calls)


def _deploy_line(found: Deploy) -> str:
    line = (
        f"{percent(found.share, 1)} of these failures come from service.version {found.version}, "
        f"first seen at {clock(found.first_seen)} (target_info)"
    )
    if found.others:
        line += (
            f"; version {', '.join(found.others)} made {counted(found.other_calls, 'call')} in the "
            f"same time range without them"
        )
    return line


def ip_not_trusted(draft: Draft, obs: Observations, traces: TraceFacts) -> Words:
    ips = [ip for ip, _ in traces.egress_ips.most_common()]
    where = " and ".join(ips) if ips else "the egress IP (the 'from ip' in the errmsg)"
    words = Words(
        summary=(
            f"WeCom refused {counted(draft.failed, 'call')} on {_apis(draft)} with "
            f"{'/'.join(map(str, draft.errcodes))}: the caller's IP {where} is not trusted"
        ),
        remediation=(
            f"Add {where} to the app's trusted IPs in the WeCom admin console (应用管理 → the app "
            f"→ 企业可信IP); it takes effect after about a minute. If the egress IP changes (NAT "
            f"gateway, cloud function), route WeCom calls through a fixed egress. Retrying does "
            f"not help."
        ),
    )
    if ips:
        words.details.update(egress_ip=ips[0], egress_ips=",".join(ips))
        words.evidence.append(f"WeCom reported the caller's IP as {', '.join(ips)} (wecom.errmsg)")
    return words


def token_refresh_failing(draft: Draft, obs: Observations, traces: TraceFacts) -> Words:
    token_codes = [
        code
        for code in draft.errcodes
        if any(code in a.errcodes and a.apis & TOKEN_APIS for a in draft.anomalies)
    ]
    shown = ", ".join(f"{code} ({explain(code).meaning})" for code in token_codes[:2])
    what = shown or ", ".join(sorted(traces.exceptions)) or "errors"
    remedy = explain(token_codes[0]).remediation if token_codes else ""
    return Words(
        summary=(
            f"Fetching an access_token fails with {what}: {counted(draft.failed, 'failed call')}, "
            f"and every call that needs a new token fails with it"
        ),
        remediation=(
            (remedy + " " if remedy else "")
            + "Check corpid and corpsecret for this app; do not retry gettoken in a loop "
            "(repeated wrong-secret requests get the egress IP blocked for an hour)."
        ),
    )


def token_expired(draft: Draft, obs: Observations, traces: TraceFacts) -> Words:
    processes = len(draft.by_instance)
    fresh = sum(
        sum(series.counts[obs.frame.window_from :])
        for series in obs.calls
        if series.key.api in TOKEN_APIS and not series.key.failed
    )
    codes = "/".join(map(str, draft.errcodes))
    share = (
        "keep one token cache per app shared by all processes "
        f"({counted(processes, 'process', 'processes')} used stale tokens)"
    )
    if renews_its_token(draft, obs):
        summary = (
            f"met an expired or invalid access_token ({codes}) and the app fetched a new one each "
            "time: WeCom ended tokens before expires_in, and a client that refreshes and retries "
            "recovers"
        )
        remediation = (
            "Nothing is broken if each of these calls was repeated once after the refresh (a span "
            "with wecom.retry.attempt=1 follows it): WeCom may invalidate a token before "
            "expires_in. Otherwise, on 42001/40014 drop the cached token, fetch a new one and "
            f"retry once; {share}."
        )
        evidence = (
            f"the token API answered {counted(token_renewals(draft, obs), 'time')} without error "
            f"while these calls failed, at least once per failure: the app renews its token on "
            f"{codes}"
        )
    else:
        summary = (
            f"used an expired or invalid access_token ({codes}) while the token API works: a "
            "token cache that is stale or not shared"
        )
        remediation = (
            f"On 42001/40014 drop the cached token, fetch a new one and retry once; {share}. "
            "WeCom may invalidate a token before expires_in."
        )
        evidence = (
            f"the token API answered {counted(fresh, 'time')} without error in the window "
            f"({'a new token was there to use' if fresh else 'no new token was fetched'})"
        )
    return Words(
        summary=f"{counted(draft.failed, 'call')} on {_apis(draft)} {summary}",
        remediation=remediation,
        evidence=[evidence],
        details={"processes": processes, "token_calls_ok": int(fresh)},
    )


def token_overfetch(draft: Draft, obs: Observations, traces: TraceFacts) -> Words:
    facts = draft.facts
    processes = len(draft.by_instance)
    made = sum(draft.by_instance.values())
    return Words(
        summary=(
            f"{counted(processes, 'process', 'processes')} fetched an access_token "
            f"{counted(made, 'time')} in the window, "
            f"far more than tokens that live 7200 s need: no token cache"
        ),
        remediation=(
            "Cache the access_token for its expires_in (7200 s) per app, shared by the "
            "processes, and refresh it only when it expires or WeCom answers 42001/40014; "
            "frequent gettoken calls are themselves rate limited (45009)."
        ),
        details={"token_calls": int(made), "business_calls": facts.get("business_calls", 0)},
    )


def _throttled(draft: Draft) -> str:
    """The API WeCom throttled most: by refused calls, then discarded deliveries, then rate."""
    weight: dict[str, tuple[float, float, float]] = {}
    for anomaly in draft.anomalies:
        for api in anomaly.apis:
            refused, discarded, near = weight.get(api, (0.0, 0.0, 0.0))
            weight[api] = (
                refused + anomaly.failed,
                discarded + float(anomaly.facts.get("discarded_deliveries", 0)),
                near + float(anomaly.signal == "rate"),
            )
    return max(sorted(weight), key=lambda api: weight[api])


def rate_limited(draft: Draft, obs: Observations, traces: TraceFacts) -> Words:
    api = _throttled(draft)
    peak, at = peak_per_minute(
        obs.api_calls.get(api, []), obs.frame.grid.step, obs.frame.window_from
    )
    robot = api == ROBOT_API
    limit = ROBOT_LIMIT_PER_MINUTE if robot else API_LIMIT_PER_MINUTE
    target = "the group robot (webhook/send)" if robot else api
    discarded = sum(int(a.facts.get("discarded_deliveries", 0)) for a in draft.anomalies)
    refused = sorted({api for a in draft.anomalies if a.failed for api in a.apis})
    dropping = sorted({api for a in draft.anomalies if a.signal == "discards" for api in a.apis})
    parts = []
    if draft.failed:
        parts.append(
            f"WeCom throttled {counted(draft.failed, 'call')} on {', '.join(refused)} "
            f"({'/'.join(map(str, draft.errcodes)) or 'HTTP 429'})"
        )
    if discarded:
        parts.append(
            f"{'it ' if parts else 'WeCom '}silently discarded "
            f"{counted(discarded, 'delivery', 'deliveries')} of "
            f"{', '.join(dropping)} messages to members over its per-member limits"
        )
    what = " and ".join(parts) or f"{target} is close to WeCom's rate limit"
    remedy = (
        f"Throttle {target}: it peaked at {count(peak)} calls/min at "
        f"{clock(obs.frame.grid.step_end(at))} (WeCom allows {count(limit)}/min "
        f"{'per robot' if robot else 'per corp per API'}); queue or batch the calls and back "
        f"off until the block window has passed (45009 blocks the API for 60 s)."
    )
    if discarded:
        remedy += (
            " WeCom delivers at most 30 messages a minute and 1,000 an hour from one app to one "
            "member (200 a minute through an app chat) and drops the rest with errcode 0: merge "
            "notifications into digests and spread them out."
        )
    kb = _kb(draft)
    words = Words(
        summary=f"{what}; peak {count(peak)} calls/min on {api}",
        remediation=f"{remedy} {kb}" if kb else remedy,
        details={"throttled_api": api, "peak_calls_per_minute": round(peak)},
    )
    if discarded:
        words.details["discarded_deliveries"] = discarded
    return words


def recipients_unreachable(draft: Draft, obs: Observations, traces: TraceFacts) -> Words:
    dropped = sum(int(a.facts.get("recipients_dropped", 0)) for a in draft.anomalies)
    parts = []
    if dropped:
        parts.append(f"{counted(dropped, 'recipient')} dropped from messages that were sent")
    if draft.failed:
        parts.append(f"{counted(draft.failed, 'message')} refused ({_codes(draft)})")
    return Words(
        summary=(
            f"Message recipients on {_apis(draft)} cannot be reached: {' and '.join(parts)}; "
            f"members who left or are outside the app's visible range"
        ),
        remediation=(
            "Check the ids WeCom lists in invaliduser/invalidparty/invalidtag (members who left "
            "or were renamed, departments and tags that were deleted) and the app's visible range "
            "(应用管理 → the app → 可见范围); remove or fix them at the source. "
            + (explain(81013).remediation if 81013 in draft.errcodes else "")
        ).strip(),
        details={"recipients_dropped": dropped},
    )


def permission_denied(draft: Draft, obs: Observations, traces: TraceFacts) -> Words:
    return Words(
        summary=(
            f"The app is not allowed to do what {counted(draft.failed, 'call')} on {_apis(draft)} "
            f"asked: {_codes(draft)}"
        ),
        remediation=(
            _kb(draft)
            + " Permissions are granted per app in the WeCom admin console (应用管理 → the "
            "app → API permissions and visible range); retrying does not help."
        ).strip(),
    )


def invalid_request(draft: Draft, obs: Observations, traces: TraceFacts) -> Words:
    found = deploy(draft, obs)
    statuses = [
        f"HTTP {http_status(k.error_type)}"
        for a in draft.anomalies
        for k in a.kinds
        if http_status(k.error_type)
    ]
    codes = _codes(draft) or ", ".join(statuses)
    summary = (
        f"WeCom rejected {counted(draft.failed, 'request')} to {_apis(draft)} as invalid: {codes}"
    )
    remedy = _kb(draft) or "Fix the request: the path, the HTTP method and the body."
    words = Words(summary=summary, remediation=remedy)
    if found is not None and found.others:
        words.summary += f"; they began with service.version {found.version}"
        words.remediation = (
            f"Roll back or fix service.version {found.version}: the errors began with it "
            f"(first seen at {clock(found.first_seen)}) while {', '.join(found.others)} sent "
            f"valid requests. {remedy}"
        )
        words.details["service_version"] = found.version
        words.evidence.append(_deploy_line(found))
    elif found is not None:
        words.details["service_version"] = found.version
    return words


def wecom_unavailable(draft: Draft, obs: Observations, traces: TraceFacts) -> Words:
    statuses = sorted(
        {
            f"HTTP {http_status(k.error_type)}"
            for a in draft.anomalies
            for k in a.kinds
            if http_status(k.error_type)
        }
    )
    what = ", ".join([*(f"{c}" for c in draft.errcodes), *statuses])
    return Words(
        summary=(
            f"WeCom answered {counted(draft.failed, 'call')} on {_apis(draft)} with server-side "
            f"errors ({what}): WeCom is busy or unavailable"
        ),
        remediation=(
            "Transient on WeCom's side: retry with exponential backoff, at most 3 tries "
            "(WeCom's own guidance), and queue what can wait. If it lasts, check WeCom's service "
            "status and whether a proxy in between answers the 5xx."
        ),
    )


def network_error(draft: Draft, obs: Observations, traces: TraceFacts) -> Words:
    types = sorted(
        {k.error_type for a in draft.anomalies for k in a.kinds if k.error_type}
        | set(traces.exceptions)
    )
    probe = [line for a in draft.anomalies if a.signal == "probe" for line in a.evidence]
    hosts = ", ".join(sorted(traces.hosts)) or "the app's hosts"
    if draft.failed:
        summary = (
            f"{counted(draft.failed, 'call')} on {_apis(draft)} never got an answer from WeCom "
            f"({', '.join(types)}): a network failure"
        )
    else:
        summary = "The collector cannot reach WeCom: a network failure"
    if probe and draft.failed:
        summary += "; the collector's probe fails too"
    return Words(
        summary=summary,
        remediation=(
            f"Check DNS, the egress firewall or proxy and TLS from {hosts} to "
            "qyapi.weixin.qq.com; give the client explicit connect and read timeouts and retry "
            "idempotent calls with backoff."
        ),
    )


def latency_degradation(draft: Draft, obs: Observations, traces: TraceFacts) -> Words:
    facts = draft.facts
    measures = []
    if "p99_seconds" in facts:
        measures.append(f"p99 {facts['p99_seconds']} s")
    if "window_mean_seconds" in facts:
        window, usual = facts["window_mean_seconds"], facts["baseline_mean_seconds"]
        measures.append(f"mean up to {window} s against {usual} s")
    return Words(
        summary=f"Calls to {_apis(draft)} succeed but slowly: {', '.join(measures)}",
        remediation=(
            "Compare with the collector's probe latency (httpcheck_duration_milliseconds) to "
            "tell the network from WeCom; set client timeouts, keep connections alive and move "
            "bulk calls off the request path. Slow traces (> 3 s) are always kept for a look."
        ),
    )


def telemetry_loss(draft: Draft, obs: Observations, traces: TraceFacts) -> Words:
    trouble = str(draft.facts.get("trouble", "the collector reports trouble"))
    jaeger = "jaeger" in trouble.lower()
    first = (
        "Jaeger is down or refuses spans: start it again (`wecom-otel stack up` on the local "
        "stack) and check its log and storage; "
        if jaeger
        else "Check the backend the failing exporter sends to and the collector's log; "
    )
    return Words(
        summary=f"Telemetry is not getting through: {trouble}; this diagnosis may be incomplete",
        remediation=(
            first + "raise the collector's memory limit or sending queue if it sheds load. The "
            "persistent queue keeps spans across an outage while its retries last."
        ),
    )


def unexplained(draft: Draft, obs: Observations, traces: TraceFacts) -> Words:
    what = []
    for anomaly in draft.anomalies:
        for kind in anomaly.kinds:
            meaning = explain(kind.errcode).meaning if kind.errcode is not None else ""
            what.append(f"{kind.label} on {kind.api}" + (f" ({meaning})" if meaning else ""))
        if anomaly.signal == "rate":
            what.append(f"a surge of calls on {', '.join(sorted(anomaly.apis))}")
    return Words(
        summary="Anomalous without a known pattern: " + "; ".join(what[:4]),
        remediation=(
            _kb(draft)
            or "No pattern of the catalogue matches: look at the example traces and the API's "
            "own documentation."
        ),
    )


WORDING: Final[dict[str, Callable[[Draft, Observations, TraceFacts], Words]]] = {
    "ip_not_trusted": ip_not_trusted,
    "token_refresh_failing": token_refresh_failing,
    "token_expired": token_expired,
    "token_overfetch": token_overfetch,
    "rate_limited": rate_limited,
    "recipients_unreachable": recipients_unreachable,
    "permission_denied": permission_denied,
    "invalid_request": invalid_request,
    "wecom_unavailable": wecom_unavailable,
    "network_error": network_error,
    "latency_degradation": latency_degradation,
    "telemetry_loss": telemetry_loss,
    "unexplained": unexplained,
}

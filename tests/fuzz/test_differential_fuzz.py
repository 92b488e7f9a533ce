"""The differential fuzz: odd WeCom responses, every client mode, bare and instrumented.

For each generated :class:`Case` the loopback servers answer the bytes it
describes; every client mode of ``_modes.MODES`` makes the call once without
and once with ``WeComInstrumentor`` in this one process, and ``_rig.check``
holds the properties of issue 13: the app sees the same status, headers,
bytes, chunks and exceptions (type, message, step); one span and one duration
point per WeCom call and none for another host; the span records the
exception the app saw and no other; every attribute survives the OTLP encoder;
no secret anywhere; no warning logged. ``make fuzz`` runs the long profile.
"""

from __future__ import annotations

import os
import time

import pytest
from hypothesis import given

from ._modes import MODES
from ._profiles import active
from ._responses import Case, cases
from ._rig import Rig, check

LONG = os.environ.get("WECOM_FUZZ_PROFILE") == "long"
SURVEY = os.environ.get("WECOM_FUZZ_SURVEY") == "1"
"""Count every failing property by family instead of stopping at the first (``make fuzz``)."""


@pytest.mark.timeout(0 if LONG else 900)  # the long profile runs for an hour
@active()
@given(case=cases())
def test_app_sees_the_same_and_the_telemetry_tells_the_truth(rig: Rig, case: Case) -> None:
    case_id = rig.register(case)
    try:
        request = rig.request_for(case, case_id)
        bare = [mode.observe(request) for mode in MODES]
        rig.take()
        with rig.instrumented():
            for mode, seen_bare in zip(MODES, bare):
                seen = mode.observe(request)
                try:
                    check(rig, mode, request, bare=seen_bare, seen=seen, got=rig.take())
                except AssertionError as finding:
                    if not SURVEY:
                        raise
                    rig.stats.found(finding, case)
    finally:
        rig.wecom.forget(case_id)


def test_the_run_made_calls_and_no_property_failed(rig: Rig) -> None:
    """Print the run's figures (docs/fuzzing.md records the last long run's); none may have failed.

    It runs after the property test (pytest keeps the module's order) on the same rig. In survey
    mode (``make fuzz``) the property test counts failures instead of stopping at the first:
    this is where they fail the run.
    """
    stats = rig.stats
    assert stats.calls > 0, "the property test made no call"
    report = os.environ.get("WECOM_FUZZ_REPORT")
    line = (
        f"calls={stats.calls} spans={stats.spans} points={stats.points} "
        f"modes={len(stats.by_mode)} findings={sum(stats.findings.values())} "
        f"at={time.strftime('%Y-%m-%d %H:%M')}"
    )
    for family, count in sorted(stats.findings.items(), key=lambda item: -item[1]):
        line += f"\n  {count:6d}  {family}\n          e.g. {stats.examples[family]}"
    print(line)
    if report:
        with open(report, "a", encoding="utf-8") as out:
            out.write(line + "\n")
    assert not stats.findings, f"the fuzz found {sum(stats.findings.values())} failures:\n{line}"

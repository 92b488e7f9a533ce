"""The cause catalogue's rules and the arithmetic the detectors stand on."""

from __future__ import annotations

import math
from typing import Optional

import pytest

from opentelemetry.instrumentation.wecom.diagnosis import CAUSES
from opentelemetry.instrumentation.wecom.diagnosis._catalogue import CATALOGUE, classify_failure
from opentelemetry.instrumentation.wecom.diagnosis._engine import choose_step, frame_for
from opentelemetry.instrumentation.wecom.diagnosis._evidence import egress_ip, text
from opentelemetry.instrumentation.wecom.diagnosis._model import SpanView
from opentelemetry.instrumentation.wecom.diagnosis._observe import FailureKind
from opentelemetry.instrumentation.wecom.diagnosis._series import (
    peak_per_minute,
    quantile,
    run_start,
)


def test_every_cause_of_the_contract_is_in_the_catalogue() -> None:
    assert set(CATALOGUE) == set(CAUSES)


@pytest.mark.parametrize(
    ("api", "errcode", "error_type", "cause"),
    [
        ("message/send", 60020, "60020", "ip_not_trusted"),
        ("gettoken", 60020, "60020", "ip_not_trusted"),  # the IP, not the secret
        ("user/get", 48009, "48009", "ip_not_trusted"),
        ("message/send", 45009, "45009", "rate_limited"),
        ("gettoken", 45009, "45009", "rate_limited"),
        ("media/get", 45033, "45033", "rate_limited"),
        ("user/get", None, "429", "rate_limited"),
        ("gettoken", 40001, "40001", "token_refresh_failing"),
        ("gettoken", 40013, "40013", "token_refresh_failing"),
        ("gettoken", 41004, "41004", "token_refresh_failing"),
        ("service/get_suite_token", 40085, "40085", "token_refresh_failing"),
        ("message/send", 40001, "40001", "token_refresh_failing"),  # a wrong secret
        ("message/send", 42001, "42001", "token_expired"),
        ("user/get", 40014, "40014", "token_expired"),
        ("message/send", 41001, "41001", "invalid_request"),  # token missing: a bug
        ("message/send", 81013, "81013", "recipients_unreachable"),
        ("message/send", 60111, "60111", "recipients_unreachable"),
        ("user/get", 60111, "60111", "invalid_request"),  # not a message: a bad id
        ("user/get", 48002, "48002", "permission_denied"),
        ("message/send", 301002, "301002", "permission_denied"),
        ("webhook/send", 93000, "93000", "permission_denied"),
        ("message/send", 40008, "40008", "invalid_request"),
        ("media/get", 40007, "40007", "invalid_request"),
        ("message/send", -1, "-1", "wecom_unavailable"),
        ("gettoken", -1, "-1", "wecom_unavailable"),
        ("department/list", None, "502", "wecom_unavailable"),
        ("department/list", None, "404", "invalid_request"),
        ("user/get", None, "ReadTimeout", "network_error"),
        ("user/get", None, "ConnectionError", "network_error"),
        ("wedrive/file_download", 640019, "640019", "unexplained"),  # a quota
    ],
)
def test_a_failure_points_to_its_cause(
    api: str, errcode: Optional[int], error_type: str, cause: str
) -> None:
    assert classify_failure(FailureKind(api, errcode, error_type)) == cause


def test_the_step_cuts_the_window_into_about_sixty_round_steps() -> None:
    assert choose_step(15 * 60) == 15
    assert choose_step(3600) == 60
    assert choose_step(12) == 1
    assert choose_step(24 * 3600) == 1800


def test_the_grid_ends_at_the_window_end_with_at_most_240_baseline_steps() -> None:
    frame = frame_for(start=10_000.0, end=10_900.0, baseline=3600, now=20_000, lag=76)
    assert frame.grid.step == 15
    assert frame.grid.end == 10_900
    assert frame.window_from == 240
    assert frame.grid.count == 240 + 60
    assert frame.settled_until == frame.grid.count  # the window ended long ago
    live = frame_for(start=10_000.0, end=10_900.0, baseline=3600, now=10_900, lag=76)
    assert live.settled_until == live.grid.count - 6  # the last 76 s may still arrive


def test_quantile_interpolates_inside_the_bucket_like_prometheus() -> None:
    bounds = (0.1, 0.5, 1.0, math.inf)
    assert quantile(0.5, bounds, (10, 10, 0, 0)) == pytest.approx(0.1)
    assert quantile(0.75, bounds, (10, 10, 0, 0)) == pytest.approx(0.3)
    assert quantile(0.99, bounds, (0, 0, 0, 5)) == 1.0  # in +Inf: the largest finite bound
    assert quantile(0.99, bounds, (0, 0, 0, 0)) is None


def test_since_when_reaches_back_over_short_gaps() -> None:
    counts = [0, 1, 0, 1, 0, 0, 0, 0, 1, 1]
    assert run_start(counts, 8, gap=2) == 8
    assert run_start(counts, 8, gap=4) == 1  # back over 4 quiet steps, then 1


def test_the_peak_rate_is_per_sixty_seconds() -> None:
    assert peak_per_minute([1] * 120, step=1) == (60, 59)
    assert peak_per_minute([30, 0, 0, 0], step=15) == (30, 0)


def test_the_egress_ip_comes_from_the_errmsg() -> None:
    errmsg = (
        "not allow to access from your ip, hint: [1796323679006789248849911], "
        "from ip: 203.0.113.7, more info at https://open.work.weixin.qq.com/devtool/query?e=60020"
    )
    span = SpanView(
        "a" * 32,
        "b" * 16,
        None,
        "wecom user/get",
        "client",
        0,
        1,
        "error",
        attributes={"wecom.errmsg": errmsg},
    )
    assert egress_ip(span) == "203.0.113.7"


def test_span_text_in_a_report_is_scrubbed() -> None:
    assert "s3cret" not in text("https://x/cgi-bin/gettoken?corpsecret=s3cret&corpid=ww1")

"""Regression tests: one per family of defects the differential fuzz found (issue 13).

Each runs the minimal reproduction through the same rig and the same checks
as the property test, so a family cannot come back unnoticed even if the
generator stops drawing it, and then asserts what the issue names directly.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.trace import StatusCode

from ._modes import (
    AiohttpRead,
    AsyncHttpxStreamBytes,
    HttpxEarlyClose,
    HttpxMockTransportStream,
    HttpxRead,
    HttpxStreamBytes,
    HttpxStreamLines,
    Mode,
    RequestsEarlyClose,
    RequestsIterContentMisuse,
    RequestsRead,
    RequestsStreamContent,
    Seen,
)
from ._responses import BOM, CORP_SECRET, URL_TOKEN, Case, Redirect
from ._rig import Exported, Rig, check

USER_GET = b'{"errcode": 0, "errmsg": "ok", "userid": "zhangsan", "name": "' + b"x" * 5000 + b'"}'


def _case(**changes: Any) -> Case:
    """A plain, well-formed ``user/get`` answer, changed where a test says."""
    base = Case(
        path="/cgi-bin/user/get",
        method="GET",
        request_json=None,
        status=200,
        reason=b"OK",
        content_type="application/json; charset=UTF-8",
        content_encoding=None,
        body=USER_GET,
        decoded=USER_GET,
        framing="length",
        segments=(),
        declared_extra=0,
        bad_chunk=False,
        cut_head=False,
        end="fin",
        redirect=None,
        expected_errcode=0,
        well_formed=True,
    )
    return replace(base, **changes)


def _run(rig: Rig, case: Case, mode: Mode) -> tuple[Seen, Exported]:
    """The bare and the instrumented call, checked like the fuzz checks them."""
    case_id = rig.register(case)
    try:
        request = rig.request_for(case, case_id)
        bare = mode.observe(request)
        rig.take()
        with rig.instrumented():
            seen = mode.observe(request)
            got = rig.take()
        check(rig, mode, request, bare=bare, seen=seen, got=got)
        return seen, got
    finally:
        rig.wecom.forget(case_id)


def _only_span_attributes(got: Exported) -> dict[str, Any]:
    (span,) = got.spans
    return dict(span.attributes or {})


# 1. Stopping early on a streamed body is not a failure.


@pytest.mark.parametrize("mode", [HttpxEarlyClose(), RequestsEarlyClose()], ids=lambda m: m.name)
def test_closing_a_stream_early_is_not_recorded_as_a_failure(rig: Rig, mode: Mode) -> None:
    _, got = _run(rig, _case(), mode)
    (span,) = got.spans
    attributes = dict(span.attributes or {})
    assert attributes["wecom.status"] == "ok"
    assert "error.type" not in attributes
    assert span.status.status_code is StatusCode.UNSET
    (point,) = got.duration_points()
    assert dict(point.attributes)["wecom.status"] == "ok"


# 2. A decode error while streaming is recorded as the exception the app saw.


@pytest.mark.parametrize(
    "mode",
    [HttpxStreamBytes(), HttpxStreamLines(), AsyncHttpxStreamBytes()],
    ids=lambda m: m.name,
)
def test_a_decode_error_while_streaming_is_the_exception_the_span_records(
    rig: Rig, mode: Mode
) -> None:
    seen, got = _run(rig, _case(content_encoding="gzip", expected_errcode=None), mode)
    assert seen.call_exception() is not None
    assert seen.call_exception()[3] == "DecodingError"  # type: ignore[index]
    (span,) = got.spans
    (event,) = [e for e in span.events if e.name == "exception"]
    assert dict(event.attributes or {})["exception.type"] == "DecodingError"
    assert _only_span_attributes(got)["error.type"] == "DecodingError"
    assert span.status.status_code is StatusCode.ERROR


def test_a_gzip_stream_read_whole_yields_its_errcode(rig: Rig) -> None:
    body = b'{"errcode": 45009, "errmsg": "api freq out of limit"}'
    case = _case(
        content_encoding="gzip", body=gzip.compress(body), decoded=body, expected_errcode=45009
    )
    _, got = _run(rig, case, HttpxStreamBytes())
    assert _only_span_attributes(got)["wecom.errcode"] == 45009


# 3. requests: iter_content() raises when called, as without instrumentation.


def test_iter_content_raises_when_called_and_a_handled_misuse_is_no_failure(rig: Rig) -> None:
    seen, got = _run(rig, _case(), RequestsIterContentMisuse())
    raised = [event for event in seen.events if event[0] == "raised"]
    assert [event[3] for event in raised] == ["TypeError", "StreamConsumedError"]
    (span,) = got.spans
    assert span.status.status_code is StatusCode.UNSET
    assert not [e for e in span.events if e.name == "exception"]


# 4. Every attribute survives the OTLP encoder.


@pytest.mark.parametrize("mode", [HttpxRead(), RequestsRead()], ids=lambda m: m.name)
def test_a_lone_surrogate_in_the_errmsg_is_encodable(rig: Rig, mode: Mode) -> None:
    body = json.dumps({"errcode": 40014, "errmsg": "invalid access_token \ud800, hint: [x]"})
    _, got = _run(rig, _case(body=body.encode(), expected_errcode=40014), mode)
    attributes = _only_span_attributes(got)
    assert attributes["wecom.errmsg"] == "invalid access_token \ufffd, hint: [x]"
    assert got.spans[0].status.description == "WeCom errcode 40014: invalid access_token \ufffd"


def test_one_bad_span_does_not_cost_the_batch(rig: Rig) -> None:
    """5 good spans and 1 with a surrogate errmsg: the encoder takes all 6."""
    good = _run(rig, _case(), HttpxRead())[1].spans * 5
    body = json.dumps({"errcode": 40014, "errmsg": "bad \udfff"}).encode()
    bad = _run(rig, _case(body=body, expected_errcode=40014), HttpxRead())[1].spans
    request = encode_spans(good + bad)
    assert len(request.resource_spans[0].scope_spans[0].spans) == 6
    assert request.SerializeToString()


@pytest.mark.parametrize("expires_in", [2**63, 2**70, -(2**64)])
def test_a_gettoken_expires_in_beyond_int64_is_encodable(rig: Rig, expires_in: int) -> None:
    body = b'{"errcode": 0, "errmsg": "ok", "access_token": "T", "expires_in": %d}' % expires_in
    case = _case(path="/cgi-bin/gettoken", body=body, decoded=body)
    _, got = _run(rig, case, RequestsRead())
    assert _only_span_attributes(got)["wecom.token.expires_in"] == str(expires_in)


# 5. The smaller ones.


@pytest.mark.parametrize("errcode", [1234567890123, 10**30, -(10**19)])
def test_an_errcode_of_13_or_more_digits_is_read_whole(rig: Rig, errcode: int) -> None:
    body = b'{"errcode": %d, "errmsg": "odd"}' % errcode
    _, got = _run(rig, _case(body=body, decoded=body, expected_errcode=errcode), HttpxRead())
    expected: object = errcode if -(2**63) <= errcode < 2**63 else str(errcode)
    assert _only_span_attributes(got)["wecom.errcode"] == expected


@pytest.mark.parametrize("mode", [HttpxRead(), RequestsStreamContent()], ids=lambda m: m.name)
def test_a_body_after_a_utf8_bom_yields_its_errcode(rig: Rig, mode: Mode) -> None:
    body = BOM + b'{"errcode": 42001, "errmsg": "access_token expired"}'
    _, got = _run(rig, _case(body=body, decoded=body, expected_errcode=42001), mode)
    assert _only_span_attributes(got)["wecom.errcode"] == 42001


def test_a_mocktransport_stream_ends_its_span_with_the_errcode(rig: Rig) -> None:
    body = b'{"errcode": 60020, "errmsg": "not allow to access from your ip"}'
    case = _case(body=body, decoded=body, expected_errcode=60020)
    _, got = _run(rig, case, HttpxMockTransportStream())
    assert _only_span_attributes(got)["wecom.errcode"] == 60020


@pytest.mark.parametrize("mode", [HttpxRead(), RequestsRead()], ids=lambda m: m.name)
@pytest.mark.parametrize("route", ["other->wecom", "wecom->other", "wecom->wecom"])
def test_a_redirected_call_is_recorded_by_the_url_the_app_asked_for(
    rig: Rig, mode: Mode, route: str
) -> None:
    """One rule for httpx and requests: the first URL decides; its hops are part of the call."""
    _, got = _run(rig, _case(redirect=Redirect(302, route)), mode)
    expected = 0 if route == "other->wecom" else 1
    assert len(got.spans) == expected
    assert sum(p.count for p in got.duration_points()) == expected


# 6. Found by the first long run (docs/fuzzing.md, "Last long run").


@pytest.mark.parametrize("mode", [HttpxRead(), RequestsRead()], ids=lambda m: m.name)
@pytest.mark.parametrize("tail", ["", "\ud800invalid "])
def test_a_token_named_in_the_errmsg_of_a_call_that_did_not_send_it_is_redacted(
    rig: Rig, mode: Mode, tail: str
) -> None:
    """A gettoken call sends no access_token, so the token is no known value of the call."""
    errmsg = f"invalid credential, access_token is invalid or not latest: {URL_TOKEN}{tail}"
    body = json.dumps({"errcode": 40014, "errmsg": errmsg}).encode()
    case = _case(path="/cgi-bin/gettoken", body=body, decoded=body, expected_errcode=40014)
    _, got = _run(rig, case, mode)  # fails on any secret in any span, metric or log
    errmsg_seen = _only_span_attributes(got)["wecom.errmsg"]
    assert errmsg_seen.startswith("invalid credential, access_token is invalid or not latest: ")
    assert errmsg_seen.endswith("REDACTED" + tail.replace("\ud800", "\ufffd"))


def test_a_secret_in_body_bytes_quoted_by_an_aiohttp_exception_is_redacted(rig: Rig) -> None:
    """Found by the 2,000-example check run after the long one (docs/fuzzing.md).

    A 204 carrying a body makes aiohttp raise ``Data after Connection: close`` quoting the
    raw bytes: JSON escapes inside a bytes repr, ``{\\"corpsecret\\": \\"...\\"}``.
    """
    body = json.dumps({"errmsg": f'invalid corpsecret, {{"corpsecret": "{CORP_SECRET}"}}'})
    case = _case(status=204, body=body.encode(), decoded=body.encode(), expected_errcode=None)
    seen, got = _run(rig, case, AiohttpRead())  # fails on any secret in any span, metric or log
    raised = seen.call_exception()
    assert raised is not None
    assert raised[3] == "ClientResponseError"
    (span,) = got.spans
    assert "REDACTED" in (span.status.description or "")

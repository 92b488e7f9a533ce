"""Hypothesis strategies for odd WeCom responses, down to the bytes on the wire.

A :class:`Case` is one WeCom call: the API, the request, the body WeCom (or
something in front of it) answers, how that body is encoded and framed, and
optionally a redirect hop before it. Bodies are built from pieces so that the
generator knows what a correct reading finds (``expected_errcode``) when the
body is well-formed, and plants canary secrets (:data:`CANARY`) in the URL, the
request and the errmsg, so that no secret may appear in any telemetry.
"""

from __future__ import annotations

import gzip
import json
import zlib
from dataclasses import dataclass
from typing import Any, Optional

import brotli
from hypothesis import strategies as st

from ._wire import Wire

CANARY = "CANARY"
"""Every planted secret contains this; telemetry must never contain it."""

URL_TOKEN = "CANARYurlTOKEN0123"
HOP_TOKEN = "CANARYhopTOKEN4567"
CORP_SECRET = "CANARYcorpSECRET89"
ISSUED_TOKEN = "CANARYissuedTOKEN"
REQUEST_CODE = "CANARYrequestCODE"  # a one-time code in a request body
BOM = b"\xef\xbb\xbf"

APIS: dict[str, str] = {
    "/cgi-bin/gettoken": "GET",
    "/cgi-bin/message/send": "POST",
    "/cgi-bin/media/get": "GET",
    "/cgi-bin/user/get": "GET",
}

STATUSES = (200, 200, 200, 200, 201, 204, 206, 304, 400, 401, 403, 404, 405, 409, 413, 429)
STATUSES += (451, 500, 502, 503, 504, 599)
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
CONTENT_TYPES = (
    None,
    "application/json",
    "application/json; charset=UTF-8",
    "APPLICATION/JSON;charset=utf-8",
    "application/problem+json",
    "text/plain",
    "text/html; charset=gbk",
    "application/octet-stream",
    "image/jpeg",
)
INT64_MAX = 2**63 - 1


@dataclass(frozen=True)
class Redirect:
    """A hop before the final response: from which host to which."""

    status: int
    route: str  # "wecom->wecom", "other->wecom" or "wecom->other"


@dataclass(frozen=True)
class Case:
    """One generated WeCom call and the response it gets."""

    path: str
    method: str
    request_json: Optional[dict[str, Any]]
    status: int
    reason: bytes
    content_type: Optional[str]
    content_encoding: Optional[str]
    body: bytes  # what is sent, encoded
    decoded: bytes  # what a correct decoder yields
    framing: str
    segments: tuple[int, ...]
    declared_extra: int
    bad_chunk: bool
    cut_head: bool
    end: str
    redirect: Optional[Redirect]
    expected_errcode: Optional[int]
    """The errcode a correct reading finds, when the body is well-formed WeCom JSON; else None."""
    well_formed: bool

    @property
    def wire(self) -> Wire:
        headers: list[tuple[bytes, bytes]] = []
        if self.content_type is not None:
            headers.append((b"Content-Type", self.content_type.encode("latin-1")))
        if self.content_encoding is not None:
            headers.append((b"Content-Encoding", self.content_encoding.encode("latin-1")))
        headers.append((b"X-Wire", b"odd \xe4\xb8\xad"))
        status_line = b"HTTP/1.1 %d" % self.status + (b" " + self.reason if self.reason else b"")
        wire = Wire(
            status_line=status_line,
            headers=tuple(headers),
            body=self.body,
            framing=self.framing,
            segments=self.segments,
            declared_extra=self.declared_extra,
            bad_chunk=self.bad_chunk,
            end=self.end,
        )
        if self.cut_head:
            return Wire(**{**wire.__dict__, "send_bytes": len(status_line) + 10})
        return wire

    @property
    def clean_transport(self) -> bool:
        """Whether the bytes reach the app whole (no cut, no reset, no bad framing)."""
        return (
            self.declared_extra == 0
            and not self.bad_chunk
            and not self.cut_head
            and self.end == "fin"
            and self.status not in (204, 304)
        )


def _errmsg_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.just("ok"),
        st.text(max_size=40),
        st.sampled_from(
            [
                f"invalid credential, access_token is invalid or not latest: {URL_TOKEN}",
                f"bad url /cgi-bin/user/get?access_token={URL_TOKEN}&userid=zhangsan",
                f'invalid corpsecret, {{"corpsecret": "{CORP_SECRET}"}}',
                f"access_token: {ISSUED_TOKEN}, hint: [1700000000_1_abc], from ip: 1.2.3.4",
                "api freq out of limit, hint: [1700000000_2_def], more info at https://open.work.weixin.qq.com/devtool/query?e=45009",
                "\u4e0d\u5408\u6cd5\u7684 access_token, hint: [x]",
            ]
        ),
        st.integers(1_000, 120_000).map(lambda n: "\u4e2d" * (n // 3) + "x" * (n % 3)),
    )


@st.composite
def _errmsg_json(draw: st.DrawFn) -> bytes:
    text = draw(_errmsg_text())
    form = draw(st.sampled_from(["ascii", "utf8", "surrogate", "invalid-utf8", "number"]))
    if form == "ascii":
        return json.dumps(text).encode()
    if form == "utf8":
        return json.dumps(text, ensure_ascii=False).encode()
    if form == "surrogate":  # the JSON escape of a lone surrogate: valid JSON, not valid Unicode
        return json.dumps(text + "\ud800" + text[:8]).encode()
    if form == "invalid-utf8":
        return b'"' + text[:20].encode("ascii", "ignore") + b'\xff\xfe\xc3(" '
    return b"12345"


@st.composite
def _errcode(draw: st.DrawFn) -> tuple[bytes, Optional[int]]:
    """The errcode value as JSON text, and the errcode a correct reading finds in it."""
    value = draw(
        st.one_of(
            st.sampled_from([0, 0, 40014, 42001, 45009, 60020, 81013, -1, 301002]),
            st.integers(-(2**70), 2**70),
            st.integers(10**12, 10**40),
        )
    )
    form = draw(st.sampled_from(["int", "int", "quoted", "odd"]))
    if form == "int":
        return str(value).encode(), value
    if form == "quoted":
        return f'"{value}"'.encode(), value
    odd = draw(st.sampled_from(["null", "true", "1.5", "1e30", "42001.0", '"abc"', "{}", "[1]"]))
    return odd.encode(), None


def _nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


@st.composite
def _wecom_json(draw: st.DrawFn, path: str) -> tuple[bytes, Optional[int], bool]:
    """A JSON object like WeCom's, with odd members. Returns body, errcode, well-formed."""
    errcode_text, errcode = draw(_errcode())
    members: list[bytes] = []
    placement = draw(st.sampled_from(["first", "first", "last", "missing"]))
    if placement == "first":
        members.append(b'"errcode": ' + errcode_text)
    members.append(b'"errmsg": ' + draw(_errmsg_json()))
    if path == "/cgi-bin/gettoken":
        expires = draw(st.one_of(st.just(7200), st.integers(-(2**80), 2**80)))
        members.append(b'"access_token": "%s"' % ISSUED_TOKEN.encode())
        members.append(b'"expires_in": %d' % expires)
    if path == "/cgi-bin/message/send":
        members.append(b'"invaliduser": "%s"' % draw(st.sampled_from([b"", b"a|b", b"x" * 300])))
        members.append(b'"msgid": "m1"')
    padding = draw(st.sampled_from([0, 0, 0, 5_000, 60_000]))
    if padding:
        members.append(b'"pad": "' + b"p" * padding + b'"')
    depth = draw(st.sampled_from([0, 0, 3, 200, 3_000]))
    if depth:
        members.append(b'"deep": ' + _nested(depth))
    if placement == "last":
        members.append(b'"errcode": ' + errcode_text)
    body = b"{" + b", ".join(members) + b"}"
    prefix = draw(st.sampled_from([b"", b"", BOM, b" \r\n", BOM + b"\n"]))
    well_formed = placement != "missing" and depth < 1_000
    expected = errcode if placement == "first" and padding == 0 else None
    if placement == "last":
        expected = errcode  # found in the tail window
    return prefix + body, expected if well_formed else None, well_formed


@st.composite
def _decoded_body(draw: st.DrawFn, path: str) -> tuple[bytes, Optional[int], bool]:
    kind = draw(st.sampled_from(["json"] * 6 + ["truncated", "html", "empty", "binary", "other"]))
    if kind == "json":
        return draw(_wecom_json(path))
    if kind == "truncated":
        body, _, _ = draw(_wecom_json(path))
        return body[: draw(st.integers(0, max(len(body) - 1, 0)))], None, False
    if kind == "html":
        return b"<html><body>502 Bad Gateway</body></html>", None, False
    if kind == "empty":
        return b"", None, False
    if kind == "binary":
        return draw(st.binary(max_size=2_000)) + bytes(range(256)) * 4, None, False
    return (
        draw(st.sampled_from([b"[1, 2]", b'"errcode"', b"null", b"{", b"{}", b"{ }"])),
        None,
        False,
    )


def _encode(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.compress(body, mtime=0)
    if encoding == "deflate":
        return zlib.compress(body)
    if encoding == "deflate-raw":
        compressor = zlib.compressobj(wbits=-15)
        return compressor.compress(body) + compressor.flush()
    if encoding == "br":
        return bytes(brotli.compress(body))
    return body


@st.composite
def _encoding(draw: st.DrawFn, decoded: bytes) -> tuple[bytes, Optional[str], bool]:
    """The body on the wire, its Content-Encoding header, and whether the header tells the truth."""
    actual = draw(st.sampled_from(["none"] * 4 + ["gzip", "deflate", "deflate-raw", "br"]))
    encoded = _encode(decoded, actual)
    header = {"none": None, "deflate-raw": "deflate"}.get(actual, actual)
    label = draw(st.sampled_from(["truthful"] * 4 + ["missing", "lies", "identity", "unknown"]))
    if label == "missing":
        return encoded, None, actual == "none"
    if label == "lies":
        return encoded, draw(st.sampled_from(["gzip", "deflate", "br"])), False
    if label == "identity" and actual == "none":
        return encoded, "identity", True
    if label == "unknown":
        return encoded, "x-unknown", actual == "none"
    return encoded, header, True


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """One odd WeCom call."""
    path = draw(st.sampled_from(sorted(APIS)))
    method = APIS[path]
    request_json = (
        {"touser": "a|b", "msgtype": "text", "text": {"content": "hi"}, "code": REQUEST_CODE}
        if method == "POST"
        else None
    )
    decoded, errcode, well_formed = draw(_decoded_body(path))
    body, content_encoding, truthful = draw(_encoding(decoded))
    status = draw(st.sampled_from(STATUSES))
    framing = draw(st.sampled_from(["length", "length", "chunked", "close"]))
    transport = draw(st.sampled_from(["clean"] * 6 + ["short", "bad-chunk", "cut-head", "reset"]))
    segments = tuple(draw(st.lists(st.integers(1, 3_000), max_size=4)))
    redirect = draw(
        st.one_of(
            st.none(),
            st.none(),
            st.none(),
            st.builds(
                Redirect,
                st.sampled_from(REDIRECT_STATUSES),
                st.sampled_from(["wecom->wecom", "other->wecom", "wecom->other"]),
            ),
        )
    )
    return Case(
        path=path,
        method=method,
        request_json=request_json,
        status=status,
        reason=draw(st.sampled_from([b"OK", b"", b"Whatever Reason", b"\xe6\x88\x90\xe5\x8a\x9f"])),
        content_type=draw(st.sampled_from(CONTENT_TYPES)),
        content_encoding=content_encoding,
        body=body,
        decoded=decoded,
        framing=framing,
        segments=segments,
        declared_extra=draw(st.integers(1, 500))
        if transport == "short" and framing == "length"
        else 0,
        bad_chunk=transport == "bad-chunk" and framing == "chunked",
        cut_head=transport == "cut-head",
        end="rst" if transport == "reset" else "fin",
        redirect=redirect,
        expected_errcode=errcode if truthful else None,
        well_formed=well_formed and truthful,
    )

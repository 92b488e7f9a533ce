"""What WeCom puts on the wire: errmsg texts, the modern errmsg format, JSON replies."""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

JSON_CONTENT_TYPE = "application/json; charset=UTF-8"
MORE_INFO_URL = "https://open.work.weixin.qq.com/devtool/query?e="

# English errmsg prefixes (the part before ", hint:"), as captured from the real API where
# possible (see the facts file); the rest are short, plausible glosses.
ERRMSG: dict[int, str] = {
    -1: "system busy",
    40001: "invalid secret",
    40003: "invalid userid",
    40005: "invalid media type",
    40006: "invalid file size",
    40007: "invalid media_id",
    40008: "invalid message type",
    40013: "invalid corpid",
    40014: "invalid access_token",
    40032: "invalid userid list size",
    40058: "invalid Request Parameter",
    41001: "access_token missing",
    41002: "corpid missing",
    41004: "corpsecret missing",
    41006: "media_id missing",
    41009: "missing userid",
    41011: "missing agentid",
    42001: "access_token expired",
    44001: "empty media data",
    44004: "empty content",
    45002: "content size out of limit",
    45009: "api freq out of limit",
    45033: "api concurrent out of limit",
    48002: "api forbidden",
    60011: "no privilege to access/modify contact/party/agent ",
    60020: "not allow to access from your ip",
    60111: "userid not found",
    60123: "invalid party id",
    81013: "user & party & tag all invalid",
    82001: "All touser & toparty & totag invalid",
    82002: "invalid party list size",
    82003: "invalid tag list size",
    86003: "invalid chatid",
    93000: "invalid webhook url",
    301002: "not allow operate another agent with this accesstoken.",
    830002: "media file too large, use Range",
}

_hint_rng = random.Random()


def new_hint() -> str:
    """A 25-digit hint id like the ones WeCom has used since 2022 (10 s-digits + 15 random)."""
    return f"{int(time.time()):010d}{_hint_rng.randrange(10**15):015d}"


def format_errmsg(errcode: int, client_ip: str, text: str | None = None) -> str:
    """``<text>, hint: [<id>], from ip: <ip>, more info at https://…/query?e=<code>``."""
    if errcode == 0:
        return "ok"
    base = text if text is not None else ERRMSG.get(errcode, f"errcode {errcode}")
    return (
        f"{base}, hint: [{new_hint()}], from ip: {client_ip}, more info at {MORE_INFO_URL}{errcode}"
    )


@dataclass
class Reply:
    """One HTTP answer, before it is written to the socket."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # The business errcode carried by a JSON body, for the call log.
    errcode: int | None = None


def json_reply(payload: dict[str, Any], status: int = 200) -> Reply:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    errcode = payload.get("errcode")
    return Reply(
        status=status,
        body=body,
        headers={"Content-Type": JSON_CONTENT_TYPE},
        errcode=errcode if isinstance(errcode, int) else None,
    )


def error_reply(errcode: int, client_ip: str, text: str | None = None, **defaults: Any) -> Reply:
    """A business error: HTTP 200 with ``errcode``/``errmsg`` plus the API's empty default fields.

    WeCom keeps the API's default fields in error bodies (``user/get`` → ``"department":[]``,
    ``getcallbackip`` → ``"ip_list":[]``), so handlers pass them in ``defaults``.
    """
    payload: dict[str, Any] = {
        "errcode": errcode,
        "errmsg": format_errmsg(errcode, client_ip, text),
    }
    payload.update(defaults)
    return json_reply(payload)


def ok_reply(**fields: Any) -> Reply:
    payload: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
    payload.update(fields)
    return json_reply(payload)


def html_page(status: int) -> bytes:
    """An nginx-style error page, as a gateway in front of WeCom would send it."""
    reason = {
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Time-out",
    }.get(status, "Error")
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    ).encode("ascii")

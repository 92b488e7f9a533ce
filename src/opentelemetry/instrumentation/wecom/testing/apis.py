"""The WeCom APIs the mock implements, with WeCom's validation order.

Order for token APIs: access_token missing (41001) → invalid/expired (40014/42001) → injected
errcodes such as an untrusted-IP window (60020) → permission (301002) → parameters.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Union

from .deliveries import DeliveryLedger
from .directory import Directory
from .media import (
    MAX_UPLOAD_BYTES,
    MEDIA_TYPES,
    MIN_UPLOAD_BYTES,
    MediaStore,
    parse_multipart,
    parse_range,
)
from .ratelimit import SlidingWindow
from .scenario import Outcome
from .tokens import TokenStore
from .wire import Reply, error_reply, json_reply, ok_reply

MESSAGE_TYPES = frozenset(
    {
        "text",
        "image",
        "voice",
        "video",
        "file",
        "textcard",
        "news",
        "mpnews",
        "markdown",
        "miniprogram_notice",
        "template_card",
    }
)
WEBHOOK_MESSAGE_TYPES = frozenset(
    {"text", "markdown", "markdown_v2", "image", "news", "file", "voice", "template_card"}
)
MAX_TEXT_BYTES = 2048
MAX_USERS, MAX_PARTIES, MAX_TAGS = 1000, 100, 100
MAX_DOWNLOAD_BYTES = 20 * 2**20
CALLBACK_IPS = ("101.226.103.0/25", "101.226.62.0/26", "58.251.80.0/25")
API_DOMAIN_IPS = ("182.254.11.176", "182.254.78.66")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

Auth = Literal["none", "token", "webhook"]


@dataclass(frozen=True)
class ApiRequest:
    method: str
    api: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # lower-cased names
    body: bytes
    client_ip: str


Handler = Callable[["WeComApis", ApiRequest], Reply]


@dataclass(frozen=True)
class _Spec:
    handler: Handler
    auth: Auth = "token"
    post_only: bool = False
    # Empty default fields WeCom keeps in this API's error bodies.
    defaults: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class AppConfig:
    """The one self-built app the mock serves."""

    corp_id: str
    corp_secret: str
    agent_id: int
    webhook_key: str
    webhook_per_minute: int | None = 20


class WeComApis:
    """Business logic of the implemented APIs; transport and faults live in the server."""

    def __init__(
        self,
        app: AppConfig,
        directory: Directory,
        tokens: TokenStore,
        media: MediaStore,
        clock: Callable[[], float],
    ) -> None:
        self.app = app
        self.directory = directory
        self.tokens = tokens
        self.media = media
        self._clock = clock
        self._lock = threading.Lock()
        self._webhook_windows: dict[str, SlidingWindow] = {}
        self.deliveries = DeliveryLedger(clock)

    @staticmethod
    def knows(api: str) -> bool:
        return api in _SPECS

    @staticmethod
    def error(api: str, errcode: int, client_ip: str) -> Reply:
        """A business error for ``api`` with its default empty fields (e.g. a 45009)."""
        return error_reply(errcode, client_ip, **_SPECS[api].defaults)

    def reset(self) -> None:
        self.media.clear()
        self.deliveries.reset()
        with self._lock:
            self._webhook_windows.clear()

    def handle(self, request: ApiRequest, injected: Outcome | None = None) -> Reply:
        """Answer ``request``; ``injected`` is an errcode fault applied after authentication."""
        spec = _SPECS[request.api]
        ip = request.client_ip
        auth_error = self._authenticate(spec.auth, request)
        if auth_error is not None:
            return error_reply(auth_error[0], ip, auth_error[1], **spec.defaults)
        if injected is not None and injected.errcode is not None:
            return error_reply(injected.errcode, ip, injected.errmsg, **spec.defaults)
        if spec.post_only and request.method != "POST":
            return error_reply(40058, ip, None, **spec.defaults)
        return spec.handler(self, request)

    def _authenticate(self, auth: Auth, request: ApiRequest) -> tuple[int, str | None] | None:
        if auth == "token":
            token = request.query.get("access_token", "")
            if not token:
                return 41001, None
            code = self.tokens.check(token)
            return None if code is None else (code, None)
        if auth == "webhook":
            key = request.query.get("key", "")
            if key == self.app.webhook_key:
                return None
            if not _UUID.match(key):
                return 40058, "invalid param 'key'"
            return 93000, None
        return None

    # --- credentials -------------------------------------------------------------------------

    def gettoken(self, request: ApiRequest) -> Reply:
        ip, query = request.client_ip, request.query
        if not query.get("corpsecret"):
            return error_reply(41004, ip)
        if not query.get("corpid"):
            return error_reply(41002, ip)
        if query["corpid"] != self.app.corp_id:
            return error_reply(40013, ip)
        if query["corpsecret"] != self.app.corp_secret:
            return error_reply(40001, ip)
        token, expires_in = self.tokens.issue()
        return ok_reply(access_token=token, expires_in=expires_in)

    def getcallbackip(self, request: ApiRequest) -> Reply:
        return ok_reply(ip_list=list(CALLBACK_IPS))

    def get_api_domain_ip(self, request: ApiRequest) -> Reply:
        return ok_reply(ip_list=list(API_DOMAIN_IPS))

    # --- messages ----------------------------------------------------------------------------

    def message_send(self, request: ApiRequest) -> Reply:
        ip = request.client_ip
        body = _json_body(request)
        if isinstance(body, Reply):
            return body
        error = self._check_agent(body.get("agentid"), ip) or _check_content(
            body, MESSAGE_TYPES, ip
        )
        if error is not None:
            return error
        users = _split(body.get("touser"))
        parties = _split(body.get("toparty"))
        tags = _split(body.get("totag"))
        if not (users or parties or tags):
            return error_reply(82001, ip)
        for values, limit, code in (
            (users, MAX_USERS, 40032),
            (parties, MAX_PARTIES, 82002),
            (tags, MAX_TAGS, 82003),
        ):
            if len(values) > limit:
                return error_reply(code, ip)
        return self._deliver(users, parties, tags, ip)

    def _check_agent(self, agentid: object, ip: str) -> Reply | None:
        """41011 missing, 40056 malformed, 301002 when the token's app is another agent."""
        if agentid is None or agentid == "":
            return error_reply(41011, ip)
        if not _is_int(agentid):
            return error_reply(40056, ip, "invalid agentid")
        if int(str(agentid)) != self.app.agent_id:
            return error_reply(301002, ip)
        return None

    def _deliver(self, users: list[str], parties: list[str], tags: list[str], ip: str) -> Reply:
        directory = self.directory
        if users == ["@all"]:
            self.deliveries.deliver_to_members(self.app.agent_id, directory.users)
            return ok_reply(msgid=_msgid())
        invalid_users = [u.lower() for u in users if not directory.has_user(u)]
        unlicensed = [u for u in users if directory.has_user(u) and directory.is_unlicensed(u)]
        invalid_parties = [
            p for p in parties if not (_is_int(p) and int(p) in directory.departments)
        ]
        invalid_tags = [t for t in tags if not (_is_int(t) and int(t) in directory.tags)]
        fields: dict[str, str] = {}
        for name, values in (
            ("invaliduser", invalid_users),
            ("invalidparty", invalid_parties),
            ("invalidtag", invalid_tags),
            ("unlicenseduser", unlicensed),
        ):
            if values:
                fields[name] = "|".join(values)
        valid = (
            (len(users) - len(invalid_users))
            + (len(parties) - len(invalid_parties))
            + (len(tags) - len(invalid_tags))
        )
        if valid == 0:
            return error_reply(81013, ip, **fields)
        # Members of departments and tags are not modelled: only named members get messages.
        dropped = {u.lower() for u in (*invalid_users, *unlicensed)}
        self.deliveries.deliver_to_members(
            self.app.agent_id, dict.fromkeys(u.lower() for u in users if u.lower() not in dropped)
        )
        return ok_reply(**fields, msgid=_msgid())

    def appchat_send(self, request: ApiRequest) -> Reply:
        ip = request.client_ip
        body = _json_body(request)
        if isinstance(body, Reply):
            return body
        if body.get("chatid") not in self.directory.chats:
            return error_reply(86003, ip)
        error = _check_content(body, MESSAGE_TYPES, ip)
        if error is not None:
            return error
        self.deliveries.deliver_to_chat(str(body["chatid"]))
        return ok_reply()

    def webhook_send(self, request: ApiRequest) -> Reply:
        ip = request.client_ip
        limit = self.app.webhook_per_minute
        if limit is not None:
            key = request.query["key"]
            with self._lock:
                window = self._webhook_windows.setdefault(key, SlidingWindow(limit, 60.0, 60.0))
                admitted = window.admit(self._clock())
            if not admitted:
                return error_reply(45009, ip)
        body = _json_body(request)
        if isinstance(body, Reply):
            return body
        return _check_content(body, WEBHOOK_MESSAGE_TYPES, ip) or ok_reply()

    # --- contacts ----------------------------------------------------------------------------

    def user_get(self, request: ApiRequest) -> Reply:
        ip, defaults = request.client_ip, _SPECS["user/get"].defaults
        userid = request.query.get("userid", "")
        if not userid:
            return error_reply(41009, ip, **defaults)
        if not self.directory.has_user(userid):
            return error_reply(
                60111, ip, f"invalid string value `{userid}`. userid not found", **defaults
            )
        return ok_reply(**self.directory.member(userid))

    def user_list(self, request: ApiRequest) -> Reply:
        department = self._department(request)
        if isinstance(department, Reply):
            return department
        return ok_reply(userlist=self.directory.members(department))

    def user_simplelist(self, request: ApiRequest) -> Reply:
        department = self._department(request)
        if isinstance(department, Reply):
            return department
        keep = ("userid", "name", "department")
        members = self.directory.members(department)
        return ok_reply(userlist=[{k: m[k] for k in keep} for m in members])

    def department_list(self, request: ApiRequest) -> Reply:
        departments = [
            {"id": d, "name": f"Department {d}", "parentid": 0 if d == 1 else 1, "order": d}
            for d in self.directory.departments
        ]
        return ok_reply(department=departments)

    def _department(self, request: ApiRequest) -> int | Reply:
        value = request.query.get("department_id", "")
        if not _is_int(value) or int(value) not in self.directory.departments:
            return error_reply(60123, request.client_ip, userlist=[])
        return int(value)

    # --- media -------------------------------------------------------------------------------

    def media_upload(self, request: ApiRequest) -> Reply:
        ip = request.client_ip
        media_type = request.query.get("type", "")
        if media_type not in MEDIA_TYPES:
            return error_reply(40005, ip)
        parts = parse_multipart(request.headers.get("content-type", ""), request.body)
        upload = parts.get("media")
        if upload is None or not upload.data:
            return error_reply(44001, ip)
        if not MIN_UPLOAD_BYTES <= len(upload.data) <= MAX_UPLOAD_BYTES[media_type]:
            return error_reply(40006, ip)
        item = self.media.add(media_type, upload.filename, upload.content_type, upload.data)
        # The official example has an empty errmsg and created_at as a string.
        return json_reply(
            {
                "errcode": 0,
                "errmsg": "",
                "type": item.type,
                "media_id": item.media_id,
                "created_at": str(item.created_at),
            }
        )

    def media_get(self, request: ApiRequest) -> Reply:
        ip = request.client_ip
        media_id = request.query.get("media_id", "")
        if not media_id:
            return error_reply(41006, ip)
        item = self.media.get(media_id)
        if item is None:
            return error_reply(40007, ip)
        size = len(item.data)
        headers = {
            "Content-Type": item.content_type,
            "Content-disposition": f'attachment; filename="{item.filename}"',
            "Cache-Control": "no-cache, must-revalidate",
            "Accept-Ranges": "bytes",
        }
        range_header = request.headers.get("range")
        span: tuple[int, int] | None = (0, size - 1)
        if range_header:
            try:
                span = parse_range(range_header, size)
            except ValueError:
                range_header = None
        if span is None:
            return Reply(416, b"", {"Content-Range": f"bytes */{size}"})
        start, end = span
        if end - start + 1 > MAX_DOWNLOAD_BYTES:
            return error_reply(830002, ip)
        if not range_header:
            return Reply(200, item.data, headers)
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        return Reply(206, item.data[start : end + 1], headers)


def _json_body(request: ApiRequest) -> Union[dict[str, Any], Reply]:
    try:
        body = json.loads(request.body.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return error_reply(40058, request.client_ip, "Warning: wrong json format.")
    if not isinstance(body, dict):
        return error_reply(40058, request.client_ip, "Warning: wrong json format.")
    return body


def _check_content(body: Mapping[str, Any], allowed: frozenset[str], ip: str) -> Reply | None:
    msgtype = body.get("msgtype")
    if not isinstance(msgtype, str) or msgtype not in allowed:
        return error_reply(40008, ip)
    if msgtype in ("text", "markdown"):
        payload = body.get(msgtype)
        content = payload.get("content") if isinstance(payload, Mapping) else None
        if not isinstance(content, str) or not content:
            return error_reply(44004, ip)
        if len(content.encode("utf-8")) > MAX_TEXT_BYTES:
            return error_reply(45002, ip)
    return None


def _split(value: object) -> list[str]:
    if isinstance(value, list):
        value = "|".join(str(v) for v in value)
    if not isinstance(value, (str, int)):
        return []
    return [part.strip() for part in str(value).split("|") if part.strip()]


def _is_int(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and value.isdigit()


def _msgid() -> str:
    return secrets.token_urlsafe(64)


_SPECS: dict[str, _Spec] = {
    "gettoken": _Spec(WeComApis.gettoken, auth="none"),
    "getcallbackip": _Spec(WeComApis.getcallbackip, defaults={"ip_list": []}),
    "get_api_domain_ip": _Spec(WeComApis.get_api_domain_ip, defaults={"ip_list": []}),
    "message/send": _Spec(WeComApis.message_send, post_only=True),
    "appchat/send": _Spec(WeComApis.appchat_send, post_only=True),
    "webhook/send": _Spec(WeComApis.webhook_send, auth="webhook", post_only=True),
    "user/get": _Spec(
        WeComApis.user_get,
        defaults={"department": [], "order": [], "is_leader_in_dept": [], "direct_leader": []},
    ),
    "user/list": _Spec(WeComApis.user_list, defaults={"userlist": []}),
    "user/simplelist": _Spec(WeComApis.user_simplelist, defaults={"userlist": []}),
    "department/list": _Spec(WeComApis.department_list, defaults={"department": []}),
    "media/upload": _Spec(WeComApis.media_upload, post_only=True),
    "media/get": _Spec(WeComApis.media_get),
}

"""``MockWeComServer``: a real HTTP server on loopback that behaves (and fails) like WeCom."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import struct
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Union
from urllib.parse import parse_qsl, urlsplit

from .admin import PREFIX as ADMIN_PREFIX
from .admin import handle_admin
from .apis import ApiRequest, AppConfig, WeComApis
from .calls import CallLog, CallRecord, mask_query, mask_text
from .deliveries import DeliveryCounts
from .directory import Directory
from .faults import FaultEngine
from .media import MediaStore
from .ratelimit import RateLimiter
from .scenario import Fault, Outcome, RateLimit, Scenario
from .tokens import TokenStore
from .wire import Reply, html_page

logger = logging.getLogger(__name__)

ScenarioLike = Union[Scenario, Mapping[str, Any], str, "os.PathLike[str]", None]

DEFAULT_CORP_ID = "ww5823bf96d3bd56c7"
DEFAULT_CORP_SECRET = "mock-corpsecret-0123456789abcdefghijklmnopqr"
DEFAULT_AGENT_ID = 1000002
DEFAULT_WEBHOOK_KEY = "5b2c1d9e-8f4a-4c3b-9e6d-7a1f0c2b3d4e"
MAX_BODY_BYTES = 64 * 2**20
_CGI = "/cgi-bin/"


def _as_scenario(scenario: ScenarioLike) -> Scenario:
    if scenario is None:
        return Scenario()
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, Mapping):
        return Scenario.from_dict(scenario)
    return Scenario.load(Path(scenario))


class MockWeComServer:
    """A WeCom look-alike on ``host:port`` (ephemeral port by default), served from a thread.

    Use it as a context manager or call :meth:`start` / :meth:`stop`. ``scenario`` (a
    :class:`Scenario`, a mapping or a ``.json``/``.yaml`` path) sets fault rules, rate limits
    and the token policy; more can be added at run time with :meth:`inject`,
    :meth:`add_rate_limit` or over ``/__admin__/``.

    ``clock`` (seconds, ``time.monotonic`` by default) is what fault windows, token
    lifetimes and rate limits are measured on; pass a :class:`ManualClock` to advance
    time in a test instead of sleeping.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        scenario: ScenarioLike = None,
        *,
        corp_id: str = DEFAULT_CORP_ID,
        corp_secret: str = DEFAULT_CORP_SECRET,
        agent_id: int = DEFAULT_AGENT_ID,
        webhook_key: str = DEFAULT_WEBHOOK_KEY,
        token_ttl: int = 7200,
        directory: Directory | None = None,
        seed: int | None = None,
        webhook_per_minute: int | None = 20,
        max_hang: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._scenario = _as_scenario(scenario)
        self._seed = seed
        self._token_ttl = token_ttl
        self._bind = (host, port)
        self._clock = clock
        self._epoch = clock()
        self._max_hang = max_hang
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._calls = CallLog()
        self._faults = FaultEngine()
        self._limiter = RateLimiter(self.elapsed)
        self._tokens = TokenStore(self.elapsed, token_ttl, self._scenario.tokens)
        app = AppConfig(corp_id, corp_secret, agent_id, webhook_key, webhook_per_minute)
        self._apis = WeComApis(
            app, directory or Directory(), self._tokens, MediaStore(), self.elapsed
        )
        self._apply_scenario()

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> MockWeComServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = _HTTPServer(self._bind, _Handler)
        httpd.mock = self
        self._httpd = httpd
        self._epoch = self._clock()
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="wecom-mock",
            daemon=True,
        )
        self._thread.start()
        logger.debug("WeCom mock listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving; hanging calls are released and open connections closed."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> MockWeComServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- addresses and credentials -----------------------------------------------------------

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the mock server is not running; call start() first")
        return int(self._httpd.server_address[1])

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``."""
        return f"{self._bind[0]}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}"

    @property
    def api_base_url(self) -> str:
        """``base_url + "/cgi-bin/"``, what SDKs call ``API_BASE_URL``."""
        return self.base_url + _CGI

    @property
    def webhook_url(self) -> str:
        return f"{self.api_base_url}webhook/send?key={self.webhook_key}"

    @property
    def corp_id(self) -> str:
        return self._apis.app.corp_id

    @property
    def corp_secret(self) -> str:
        return self._apis.app.corp_secret

    @property
    def agent_id(self) -> int:
        return self._apis.app.agent_id

    @property
    def webhook_key(self) -> str:
        return self._apis.app.webhook_key

    @property
    def directory(self) -> Directory:
        return self._apis.directory

    @property
    def scenario(self) -> Scenario:
        return self._scenario

    @property
    def clock(self) -> Callable[[], float]:
        """The clock the server measures time on (the ``clock`` argument)."""
        return self._clock

    def elapsed(self) -> float:
        """Seconds on :attr:`clock` since the server (or the scenario, after :meth:`reset`)
        started."""
        return self._clock() - self._epoch

    # --- state and faults --------------------------------------------------------------------

    def access_token(self) -> str:
        """A valid access token without an HTTP call (the one gettoken would return)."""
        return self._tokens.issue()[0]

    def add_media(
        self,
        data: bytes,
        filename: str = "media.jpg",
        content_type: str = "image/jpeg",
        media_type: str = "image",
    ) -> str:
        """Store media as if uploaded; returns its media_id."""
        return self._apis.media.add(media_type, filename, content_type, data).media_id

    def inject(self, fault: Fault | Mapping[str, Any] | None = None, **fields: Any) -> int:
        """Add a fault rule; returns its id (for :meth:`remove_fault`).

        Pass a :class:`Fault`, a mapping in the scenario-file format, or the same keys as keyword
        arguments: ``mock.inject(api="message/send", errcode=45009, calls=[2, 3])``.
        """
        if fault is None:
            fault = Fault.from_dict(fields)
        elif not isinstance(fault, Fault):
            fault = Fault.from_dict({**fault, **fields})
        return self._faults.add(fault)

    def remove_fault(self, fault_id: int) -> bool:
        return self._faults.remove(fault_id)

    def add_rate_limit(self, limit: RateLimit | None = None, **fields: Any) -> None:
        """Add a 45009/45033 limit: ``mock.add_rate_limit(api="message/send", per_minute=5)``."""
        self._limiter.add(limit if limit is not None else RateLimit.from_dict(fields))

    def clear_faults(self) -> None:
        """Drop every fault rule and rate limit (from the scenario too)."""
        self._faults.clear()
        self._limiter.clear()

    def describe_faults(self) -> dict[str, Any]:
        return {
            "faults": self._faults.describe(),
            "rate_limits": [limit.to_dict() for limit in self._limiter.limits],
            "tokens": self._scenario.tokens.to_dict(),
        }

    def expire_tokens(self) -> None:
        """Invalidate every issued token now (next use answers 42001)."""
        self._tokens.expire_all()

    def calls(self, api: str | None = None) -> list[CallRecord]:
        """Calls received so far (optionally for one API), credentials masked."""
        return self._calls.list(api)

    def deliveries(self) -> DeliveryCounts:
        """Message deliveries made and silently discarded (WeCom's per-member limits)."""
        return self._apis.deliveries.counts()

    def clear_calls(self) -> None:
        self._calls.clear()

    def load_scenario(self, scenario: ScenarioLike) -> None:
        """Replace the scenario and :meth:`reset`."""
        self._scenario = _as_scenario(scenario)
        self.reset()

    def reset(self) -> None:
        """Back to the initial state: scenario re-applied; clock, tokens, media, calls, deliveries
        cleared."""
        self._calls.clear()
        self._faults.clear()
        self._limiter.clear()
        self._apis.reset()
        self._apply_scenario()
        self._epoch = self._clock()

    def _apply_scenario(self) -> None:
        scenario = self._scenario
        self._faults.reseed(scenario.seed if scenario.seed is not None else self._seed)
        self._faults.reset_counters()
        for fault in scenario.faults:
            self._faults.add(fault)
        for limit in scenario.rate_limits:
            self._limiter.add(limit)
        self._tokens.configure(self._token_ttl, scenario.tokens)

    # --- request pipeline (called from handler threads) --------------------------------------

    def _serve(self, handler: _Handler, request: ApiRequest, path: str) -> None:
        """Answer one API call; it is logged before the answer goes out, so a client that got
        its response always finds the call in :meth:`calls`."""
        started = time.perf_counter()
        api = request.api
        if not api or not self._apis.knows(api):
            self._record(request, path, None, Reply(404), None, started)
            handler.send(Reply(404))
            return
        decision = self._faults.decide(api, self.elapsed())
        outcome = decision.outcome
        with self._limiter.admit(api) as limit_errcode:
            if decision.latency > 0:
                self._stopping.wait(decision.latency)
            if outcome is not None and outcome.reset:
                self._record(request, path, api, None, decision.label, started)
                handler.reset_connection()
                return
            if outcome is not None and outcome.hang is not None:
                self._record(request, path, api, None, decision.label, started)
                self._stopping.wait(min(outcome.hang, self._max_hang))
                handler.close_connection = True
                return
            try:
                reply = self._reply(request, outcome, limit_errcode)
            except Exception:
                # A bug in the mock must not look like a network fault to the code under test.
                logger.exception("WeCom mock failed to answer %s", api)
                reply = Reply(500, html_page(500), {"Content-Type": "text/html"})
            self._record(request, path, api, reply, decision.label, started)
            handler.send(reply)

    def _reply(
        self, request: ApiRequest, outcome: Outcome | None, limit_errcode: int | None
    ) -> Reply:
        if outcome is not None and outcome.http_status is not None:
            status = outcome.http_status
            if outcome.body is not None:
                body = outcome.body.encode("utf-8")
            else:
                body = html_page(status) if status >= 400 else b""
            content_type = outcome.content_type or "text/html"
            return Reply(status, body, {"Content-Type": content_type})
        if limit_errcode is not None:
            return self._apis.error(request.api, limit_errcode, request.client_ip)
        return self._apis.handle(request, outcome)

    def _record(  # noqa: PLR0917 - private, called from one place
        self,
        request: ApiRequest,
        path: str,
        api: str | None,
        reply: Reply | None,
        fault: str | None,
        started: float,
    ) -> None:
        self._calls.append(
            CallRecord(
                timestamp=time.time(),
                method=request.method,
                path=path,
                api=api,
                query=mask_query(request.query),
                status=None if reply is None else reply.status,
                errcode=None if reply is None else reply.errcode,
                fault=fault,
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
            )
        )


class _HTTPServer(ThreadingHTTPServer):
    """Threading server that tracks connections so :meth:`MockWeComServer.stop` can close them."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024
    mock: MockWeComServer

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def close_connections(self) -> None:
        with self.connections_lock:
            connections = list(self.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer
    # Idle keep-alive connections are dropped after this many seconds.
    timeout = 30

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle + delayed ACK add
        # ~40 ms to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def version_string(self) -> str:
        return "nginx"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - %s", self.address_string(), mask_text(format % args))

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        body = self._read_body()
        if body is None:
            return
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        mock = self.server.mock
        if url.path.startswith(ADMIN_PREFIX):
            self.send(handle_admin(mock, self.command, url.path, query, body))
            return
        api = url.path[len(_CGI) :] if url.path.startswith(_CGI) else ""
        request = ApiRequest(
            method=self.command,
            api=api,
            query=query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            client_ip=self.client_address[0],
        )
        mock._serve(self, request, url.path)

    def _read_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self.close_connection = True
            self.send(Reply(413 if length > 0 else 400))
            return None
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes | None:
        chunks: list[bytes] = []
        total = 0
        while True:
            size_line = self.rfile.readline(1024)
            try:
                size = int(size_line.split(b";")[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                self.send(Reply(400))
                return None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                self.close_connection = True
                self.send(Reply(413))
                return None
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and reply.body:
            self.wfile.write(reply.body)

    def reset_connection(self) -> None:
        """Abort with a TCP RST: SO_LINGER on with a zero timeout, then close."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

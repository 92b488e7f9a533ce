"""Serve answers recorded from the real backends over loopback HTTP, and log what was asked.

The clients under test make real HTTP requests; only the server side is a recording (see
``record_jaeger.py``). A route serves a recording when the request's path is equal and its
query holds the route's parameters; an unrouted request gets a 599 so it cannot pass unseen.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional

RECORDINGS = Path(__file__).resolve().parent / "recordings"


@dataclass(frozen=True)
class Exchange:
    status: int
    content_type: str
    body: bytes

    @classmethod
    def load(cls, name: str, backend: str = "jaeger") -> Exchange:
        recorded = json.loads((RECORDINGS / backend / f"{name}.json").read_text(encoding="utf-8"))
        return cls(recorded["status"], recorded["content_type"], recorded["body"].encode())

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Request:
    path: str
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class Replay:
    url: str
    routes: list[tuple[str, dict[str, str], Exchange]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)

    def route(self, path: str, exchange: Exchange, **params: str) -> None:
        self.routes.append((path, params, exchange))

    def find(self, path: str, params: Mapping[str, str]) -> Optional[Exchange]:
        for route_path, wanted, exchange in self.routes:
            if route_path == path and all(params.get(k) == v for k, v in wanted.items()):
                return exchange
        return None


@contextmanager
def replay_server() -> Iterator[Replay]:
    """A loopback server answering from recordings; add them with ``replay.route(...)``."""
    state: dict[str, Replay] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            params = dict(urllib.parse.parse_qsl(parts.query))
            replay = state["replay"]
            replay.requests.append(Request(parts.path, params, dict(self.headers.items())))
            exchange = replay.find(parts.path, params) or Exchange(
                599, "text/plain", f"no recording for {self.path}".encode()
            )
            self.send_response(exchange.status)
            self.send_header("Content-Type", exchange.content_type)
            self.send_header("Content-Length", str(len(exchange.body)))
            self.end_headers()
            self.wfile.write(exchange.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["replay"] = Replay(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state["replay"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)

"""Stands in for jaeger/otelcol/prometheus in the stack's lifecycle tests.

It serves 200 on every path at the health address its real counterpart would use
(from the same environment variable or flag), or exits at once with FAKE_EXIT set.
"""

from __future__ import annotations

import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        return None


def main() -> None:
    if os.environ.get("FAKE_EXIT"):
        print("fake failure: refusing to start", flush=True)
        sys.exit(3)
    address = os.environ.get("JAEGER_HEALTH_ENDPOINT") or os.environ.get(
        "WECOM_OTEL_HEALTH_ENDPOINT"
    )
    for arg in sys.argv[1:]:
        if arg.startswith("--web.listen-address="):
            address = arg.split("=", 1)[1]
    assert address, sys.argv
    host, _, port = address.rpartition(":")
    HTTPServer((host, int(port)), Ok).serve_forever()


if __name__ == "__main__":
    main()

"""A local stand-in for a Cobot-like coworking API: paginated JSON behind a bearer token."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "api-token-123"


@contextmanager
def fake_api(resources: dict[str, list[dict[str, Any]]], page_size: int = 2) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._send(401, {"error": "unauthorized"})
                return
            url = urlsplit(self.path)
            name = url.path.removeprefix("/api/")
            if name not in resources:
                self._send(404, {"error": "not found"})
                return
            page = int(parse_qs(url.query).get("page", ["1"])[0])
            items = resources[name][(page - 1) * page_size : page * page_size]
            more = page * page_size < len(resources[name])
            self._send(200, {"items": items, "next": f"{name}?page={page + 1}" if more else None})

        def _send(self, status: int, body: Any) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

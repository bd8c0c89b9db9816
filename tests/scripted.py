"""A vendor that answers from a script, on loopback: each request is answered by a function of it (status and
body), and every request is kept. For fast tests of our client and paginators against real HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Asked:
    method: str
    path: str
    query: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Cut:
    """A body that stops short: `payload` is sent with a Content-Length of `declared`, then the connection
    closes (a download dropped midway)."""

    payload: bytes
    declared: int


Answer = Callable[[Asked], tuple[int, Any]]  # (status, JSON body; or bytes as they are, or a Cut)


@contextmanager
def scripted_vendor(answer: Answer) -> Iterator[tuple[str, list[Asked]]]:
    """The vendor's base URL and the requests it got, in order."""
    asked: list[Asked] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            url = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            request = Asked(self.command, url.path, {k: v[-1] for k, v in parse_qs(url.query).items()}, body)
            asked.append(request)
            status, content = answer(request)
            cut = content if isinstance(content, Cut) else None
            payload = cut.payload if cut else content if isinstance(content, bytes) else json.dumps(content).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(cut.declared if cut else len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            if cut:
                self.close_connection = True

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()

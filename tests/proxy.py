"""A small HTTP proxy on loopback that plays a misbehaving vendor: it forwards to the sandbox and lets a
test rewrite the answer (the body, the status, or a redirect elsewhere). It also records what it was sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx


@dataclass
class Exchange:
    """One request as the proxy saw it, and the upstream answer it may rewrite."""

    method: str
    path: str  # without the query
    query: dict[str, list[str]]
    headers: dict[str, str]
    status: int = 200
    body: bytes = b""
    response_headers: dict[str, str] = field(default_factory=dict)
    forward_path: str = ""  # path and query sent upstream; `before` may change it
    answered: bool = False  # set by `before` to answer without asking upstream
    request_body: bytes = b""  # what the client sent

    def json(self) -> Any:
        return json.loads(self.body)

    def set_json(self, value: Any) -> None:
        self.body = json.dumps(value).encode()
        self.response_headers["Content-Type"] = "application/json"


Rewrite = Callable[[Exchange], None]


class Proxy:
    def __init__(self, upstream: str | None, rewrite: Rewrite | None = None, before: Rewrite | None = None) -> None:
        self.upstream = upstream.rstrip("/") if upstream else None
        self.rewrite = rewrite or (lambda exchange: None)
        self.before = before or (lambda exchange: None)
        self.lock = threading.Lock()  # rewrites may keep state; requests arrive on several threads
        self.seen: list[Exchange] = []
        self.url = ""
        # One client for every forwarded request: `httpx.request` builds a client (and reads the CA bundle)
        # per call, ~35 ms each, which made proxied runs three times slower than direct ones.
        self.client = httpx.Client(timeout=60)

    def handle(self, exchange: Exchange, raw_path: str, body: bytes) -> Exchange:
        self.seen.append(exchange)
        exchange.forward_path, exchange.request_body = raw_path, body
        with self.lock:
            self.before(exchange)
        if self.upstream and not exchange.answered:
            headers = {k: v for k, v in exchange.headers.items() if k.lower() not in ("host", "content-length")}
            answer = self.client.request(exchange.method, self.upstream + exchange.forward_path, headers=headers,
                                         content=body)
            exchange.status, exchange.body = answer.status_code, answer.content
            exchange.response_headers = {k: v for k, v in answer.headers.items()
                                         if k.lower() in ("content-type", "retry-after", "location")}
        with self.lock:
            self.rewrite(exchange)
        return exchange


def spoiling_one_sale(spoiled: set[int], active: Callable[[], bool]) -> Rewrite:
    """A rewrite of ClickMagick's sales listings that gives one sale an absurd amount (1e308) while `active()`:
    the first sale it sees, then that one each time (its id lands in `spoiled`); after, the vendor has fixed it."""

    def spoil(exchange: Exchange) -> None:
        if active() and exchange.path.startswith("/v1/campaigns/sales") and exchange.status == 200:
            body = exchange.json()
            for sale in body["sales"]:
                if not spoiled or sale["id"] in spoiled:
                    spoiled.add(sale["id"])
                    sale["amt"] = 1e308
            exchange.set_json(body)

    return spoil


@contextmanager
def running_proxy(upstream: str | None = None, rewrite: Rewrite | None = None, before: Rewrite | None = None
                  ) -> Iterator[Proxy]:
    """A proxy on a free loopback port; `upstream` None answers 200 with an empty body unless rewritten.
    `before` sees each request first (change `forward_path`, or answer it); `rewrite` sees each answer."""
    proxy = Proxy(upstream, rewrite, before)

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            exchange = Exchange(self.command, parts.path, parse_qs(parts.query), dict(self.headers.items()))
            done = proxy.handle(exchange, self.path, body)
            self.send_response(done.status)
            for key, value in done.response_headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(done.body)))
            self.end_headers()
            self.wfile.write(done.body)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
        proxy.client.close()

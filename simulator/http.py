"""A small HTTP/1.1 server and router on the standard library (no framework to install or mock).

Handlers receive a `Request` and return a `Response`; `HttpError` short-circuits with a vendor's
own error body. Faults (drops, 5xx, 429 storms, slowness) are applied here, before routing.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # path parameters

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def form(self) -> dict[str, list[str]]:
        """Query string and form-encoded body together (Improvely accepts either)."""
        merged = {k: list(v) for k, v in self.query.items()}
        if self.body and "json" not in self.headers.get("content-type", ""):
            for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items():
                merged.setdefault(k, []).extend(v)
        return merged

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_json(cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        body = json.dumps(payload, separators=(",", ":"), default=_json_default).encode()
        return cls(status, body, {"Content-Type": "application/json", **(headers or {})})


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, bytes):
        return value.decode()
    raise TypeError(f"not JSON serialisable: {type(value)}")


class HttpError(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


class Drop(Exception):
    """Close the connection without a complete response (a dropped connection)."""

    def __init__(self, partial: bool) -> None:
        super().__init__("drop")
        self.partial = partial


Handler = Callable[[Request], Response]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    vendor: str


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, path: str, handler: Handler, vendor: str) -> None:
        """`path` may hold `{name}` segments, matched as one path segment each."""
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "/?$"
        self.routes.append(Route(method, re.compile(regex), handler, vendor))

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """The route, its path parameters, and whether the path exists under another method."""
        path_exists = False
        for route in self.routes:
            m = route.pattern.match(path)
            if m:
                if route.method == method:
                    return route, m.groupdict(), True
                path_exists = True
        return None, {}, path_exists


BeforeHook = Callable[[Route, Request], Response | None]


def make_server(host: str, port: int, router: Router, before: BeforeHook) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # quiet by default
            pass

        def _handle(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Request(
                method=self.command,
                path=url.path,
                query=parse_qs(url.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            route, params, path_exists = router.match(self.command, url.path)
            try:
                if route is None:
                    status = 405 if path_exists else 404
                    response = Response.of_json({"error": "Method Not Allowed" if path_exists else "Not Found"}, status)
                else:
                    request.params = params
                    response = before(route, request) or route.handler(request)
            except HttpError as err:
                response = err.response
            except Drop as drop:
                self._drop(drop.partial)
                return
            except Exception:  # a sandbox bug: answer 500 and say where, rather than hang up
                traceback.print_exc()
                response = Response.of_json({"error": "sandbox internal error"}, 500)
            self._send(response)

        def _send(self, response: Response) -> None:
            self.send_response(response.status)
            for key, value in response.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(response.body)))
            # Headers and body leave in one write: two small writes meet the client's delayed ACK
            # and cost ~40 ms a request.
            self._headers_buffer.append(b"\r\n")
            payload = b"".join(self._headers_buffer) + (response.body if self.command != "HEAD" else b"")
            self._headers_buffer = []
            self.wfile.write(payload)

        def _drop(self, partial: bool) -> None:
            if partial:
                # Promise a body, send part of it, then hang up mid-transfer.
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "4096")
                self.end_headers()
                self.wfile.write(b'{"data": [')
                self.wfile.flush()
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def sleep_ms(ms: float) -> None:
    if ms > 0:
        time.sleep(ms / 1000)

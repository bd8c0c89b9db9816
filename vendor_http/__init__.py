"""The one HTTP client every vendor call goes through: the sources' reads and the destinations' pushes.

httpx with timeouts; retries (tenacity) with exponential backoff and jitter for 5xx and dropped
connections, honouring `Retry-After` on 429 up to a ceiling; auth supplied per vendor as an
`httpx.Auth`; and errors that name the vendor, the endpoint and the status without ever printing
a secret.
"""

from __future__ import annotations

import functools
import logging
import random
import re
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, BinaryIO

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from dlt_adapter import interruptible_sleep, stop_if_signalled

log = logging.getLogger("vendor_http")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def pause(seconds: float) -> None:
    """Sleep that a SIGINT or SIGTERM cuts short: a run asked to stop does not sit out a Retry-After."""
    stop_if_signalled()
    interruptible_sleep(seconds)
    stop_if_signalled()


class VendorError(RuntimeError):
    """A vendor call failed for good. The message names vendor, endpoint and cause, never a secret."""

    def __init__(self, vendor: str, endpoint: str, cause: str, status: int | None = None) -> None:
        self.vendor, self.endpoint, self.status = vendor, endpoint, status
        status_text = f"HTTP {status}" if status is not None else "no response"
        super().__init__(f"{vendor}: {endpoint} failed ({status_text}): {cause}")


class VendorAuthError(VendorError):
    """401/403: credentials are wrong or lack rights; retrying cannot help."""


class VendorOutcomeUnknown(VendorError):
    """A call that must not be repeated (`idempotent=False`) failed in a way that does not tell whether the
    vendor acted on it (500, 502, 504, a dropped connection or a read timeout once the request was sent): it was
    not retried, and whoever made it decides what to do (the push parks the row rather than risk a duplicate)."""


# Answers and failures that show the vendor did not act on the request: safe to repeat any call.
UNPROCESSED_STATUSES = frozenset({429, 503})
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
DOWNLOAD_CHUNK = 2**20  # bytes of a streamed body written at a time


class _Retryable(Exception):
    def __init__(self, cause: str, status: int | None = None, retry_after: float | None = None,
                 unprocessed: bool = False) -> None:
        super().__init__(cause)
        self.cause, self.status, self.retry_after, self.unprocessed = cause, status, retry_after, unprocessed

    @property
    def server_error(self) -> bool:
        return self.status is None or self.status >= 500


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8  # tries per request, the first included
    backoff_s: float = 0.25  # first backoff; doubles each retry
    backoff_max_s: float = 30.0
    max_retry_after_s: float = 900.0  # honour Retry-After up to this; a longer wait fails the run clearly
    max_total_wait_s: float = 1800.0  # all of one client's (one vendor's run's) waits together
    max_redirects: int = 5
    max_server_errors: int | None = None  # 5xx or dropped connections one request may meet (None: `attempts`)


class HeaderAuth(httpx.Auth):
    """A static secret in a header (ClickMagick `X-APIKEY`, Integr8 `API-KEY`)."""

    def __init__(self, header: str, value: str) -> None:
        self.header, self.value = header, value

    def auth_flow(self, request: httpx.Request):
        request.headers[self.header] = self.value
        yield request


class Redactor:
    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def add(self, secret: str) -> None:
        if secret and len(secret) >= 4 and secret not in self._secrets:
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)

    def excerpt(self, text: str, limit: int) -> str:
        """The first `limit` characters of `text`, masked before the cut so no secret's prefix survives it.
        A known secret that starts before the cut ends within `longest` after it; a `key=value` pair whose
        value starts before the cut has its `key=` before it too, and the pattern masks a value cut short."""
        longest = len(self._secrets[0]) if self._secrets else 0
        return self(text[: limit + longest])[:limit]

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        # Tokens and signatures that arrive in URLs or bodies are never ours to print either.
        return re.sub(r"(?i)(signature|token|key|secret|password)=([^&\s\"']+)", r"\1=***", text)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or {"http": 80, "https": 443}.get(url.scheme)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            return None


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context (httpx's default: certifi's CAs) for every client: each built anew reads the CA bundle,
    ~50 ms of CPU per vendor and run."""
    return httpx.create_ssl_context()


def _save(response: httpx.Response, into: BinaryIO | None) -> None:
    """A streamed response's body into `into` from its start, or (None) read into the response, e.g. an error's
    text; the connection is released either way."""
    try:
        if into is None:
            response.read()
            return
        into.seek(0)
        into.truncate()
        for chunk in response.iter_bytes(DOWNLOAD_CHUNK):
            into.write(chunk)
        into.flush()
    finally:
        response.close()


class VendorClient:
    def __init__(self, vendor: str, base_url: str, *, auth: httpx.Auth | None = None, secrets: Iterable[str] = (),
                 redactor: Redactor | None = None, timeout_s: float = 60.0, retry: RetryPolicy | None = None,
                 headers: dict[str, str] | None = None) -> None:
        """`redactor` lets an auth flow that learns secrets later (OAuth tokens) share the client's redactor;
        `secrets` are added to it."""
        self.vendor = vendor
        self.retry = retry or RetryPolicy()
        self.redact = redactor or Redactor(())
        for secret in secrets:
            self.redact.add(secret)
        self.retries = 0  # retried attempts so far, for run summaries
        self.waited_s = 0.0  # time spent waiting to retry, against retry.max_total_wait_s
        self._origin = _origin(httpx.URL(base_url))
        self.address = f"{self._origin[1]}:{self._origin[2]}"
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            auth=auth,
            timeout=httpx.Timeout(timeout_s, connect=10.0),
            headers={"User-Agent": "attribution-warehouse/0.1", "Accept": "application/json", **(headers or {})},
            follow_redirects=False,  # followed by _send, which never takes credentials to another origin
            verify=tls_context(),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> VendorClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, *, endpoint: str | None = None, use_auth: bool = True,
                ok: Iterable[int] = (200,), idempotent: bool = True, into: BinaryIO | None = None,
                **kwargs: Any) -> httpx.Response:
        """Send with retries. `endpoint` names the call in errors (defaults to the path without query).

        `into`: a file the body of a 2xx answer in `ok` streams into (emptied first, and again before a retry: a
        connection dropped mid-body is retried like any other), never held in memory: a download of hundreds
        of MB. The response returned then has no content (other answers keep theirs, e.g. for their text).

        Statuses in `ok` are returned; 429/5xx and dropped connections are retried; anything else raises
        `VendorError` (`VendorAuthError` for 401/403) at once. A call that must not be repeated
        (`idempotent=False`: it appends at the vendor, which has no key to tell a repeat) is retried only after
        answers that show the vendor did not act on it (429, 503, a connection never made); after any other
        failure it raises `VendorOutcomeUnknown` without trying again.
        """
        endpoint = endpoint or f"{method} {path.split('?')[0]}"
        ok = frozenset(ok)
        if not use_auth:
            kwargs["auth"] = None  # e.g. pre-signed URLs on another host must not receive our credentials
        server_errors = 0

        def attempt() -> httpx.Response:
            nonlocal server_errors
            try:
                try:
                    response = self._send(method, path, endpoint, kwargs, stream=into is not None)
                    if into is not None:
                        _save(response, into if response.status_code in ok and response.is_success else None)
                except httpx.TimeoutException as exc:
                    raise _Retryable(f"timed out ({type(exc).__name__})", unprocessed=isinstance(exc, NEVER_SENT)
                                     ) from exc
                except httpx.ConnectError as exc:
                    raise _Retryable(f"nothing answered at {self.address} ({type(exc).__name__}: "
                                     f"{self.redact(str(exc))}){self._connect_hint()}", unprocessed=True) from exc
                except httpx.TransportError as exc:
                    raise _Retryable(f"connection failed ({type(exc).__name__}: {self.redact(str(exc))})",
                                     unprocessed=isinstance(exc, NEVER_SENT)) from exc
                if response.status_code in ok:
                    return response
                detail = self.redact.excerpt(response.text, 300).strip()
                if response.status_code in RETRY_STATUSES:
                    raise _Retryable(detail or response.reason_phrase, response.status_code, _retry_after(response),
                                     unprocessed=response.status_code in UNPROCESSED_STATUSES)
            except _Retryable as failure:
                server_errors += failure.server_error
                raise
            error = VendorAuthError if response.status_code in (401, 403) else VendorError
            raise error(self.vendor, endpoint, detail or response.reason_phrase, response.status_code)

        def retried(exc: BaseException) -> bool:
            if not isinstance(exc, _Retryable) or not (idempotent or exc.unprocessed):
                return False
            cap = self.retry.max_server_errors
            return not (exc.server_error and cap is not None and server_errors >= cap)

        try:
            for try_ in Retrying(
                retry=retry_if_exception(retried),
                stop=stop_after_attempt(self.retry.attempts),
                wait=lambda state: self._wait(endpoint, state),
                before_sleep=lambda state: self._log_retry(endpoint, state),
                sleep=pause,
                reraise=True,
            ):
                with try_:
                    return attempt()
        except _Retryable as exc:
            if not idempotent and not exc.unprocessed:
                raise VendorOutcomeUnknown(self.vendor, endpoint, f"{exc.cause}; not sent again: the vendor may have "
                                           "acted on it", exc.status) from exc
            tries = f"{server_errors} server errors" if not retried(exc) else f"{self.retry.attempts} attempts"
            raise VendorError(self.vendor, endpoint, f"gave up after {tries}: {exc.cause}", exc.status) from exc
        raise AssertionError("unreachable")

    def _send(self, method: str, path: str, endpoint: str, kwargs: dict[str, Any],
              stream: bool = False) -> httpx.Response:
        """One request, following redirects ourselves: a hop to another origin than the vendor's goes out
        without our credentials (httpx would strip only `Authorization`, not `X-APIKEY` or `API-KEY`).
        `stream`: the body of the last answer is left unread."""

        def send(method: str, url: Any, kwargs: dict[str, Any]) -> httpx.Response:
            auth = kwargs.get("auth", httpx.USE_CLIENT_DEFAULT)
            request = self._http.build_request(method, url, **{k: v for k, v in kwargs.items() if k != "auth"})
            return self._http.send(request, auth=auth, stream=stream)

        response = send(method, path, kwargs)
        for _ in range(self.retry.max_redirects):
            if not response.is_redirect:
                return response
            target = response.url.join(response.headers["Location"])
            follow = {k: v for k, v in kwargs.items() if k not in ("params",)}
            if response.status_code == 303 or (response.status_code in (301, 302) and method not in ("GET", "HEAD")):
                method = "GET"
                follow = {k: v for k, v in follow.items() if k not in ("content", "data", "json", "files")}
            if _origin(target) != self._origin:
                follow["auth"] = None
            response.close()
            response = send(method, target, follow)
        if response.is_redirect:
            raise VendorError(self.vendor, endpoint, f"more than {self.retry.max_redirects} redirects")
        return response

    def get_json(self, path: str, *, endpoint: str | None = None, **kwargs: Any) -> Any:
        response = self.request("GET", path, endpoint=endpoint, **kwargs)
        return self.json(response, endpoint or f"GET {path.split('?')[0]}")

    def json(self, response: httpx.Response, endpoint: str) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            excerpt = self.redact.excerpt(response.text, 200)
            raise VendorError(self.vendor, endpoint, f"response is not JSON: {excerpt!r}",
                              response.status_code) from exc

    def _wait(self, endpoint: str, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        status = exc.status if isinstance(exc, _Retryable) else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            if exc.retry_after > self.retry.max_retry_after_s:
                raise VendorError(self.vendor, endpoint,
                                  f"asked to wait {exc.retry_after:.0f}s (Retry-After), over the "
                                  f"{self.retry.max_retry_after_s:.0f}s we accept; try again later", status)
            delay = exc.retry_after + random.uniform(0, 0.1)
        else:
            backoff = min(self.retry.backoff_max_s, self.retry.backoff_s * 2 ** (state.attempt_number - 1))
            delay = backoff * random.uniform(0.5, 1.0)  # jitter so parallel runs do not retry in lockstep
        if self.waited_s + delay > self.retry.max_total_wait_s:
            cause = exc.cause if isinstance(exc, _Retryable) else str(exc)
            raise VendorError(self.vendor, endpoint,
                              f"retry wait budget spent: waited {self.waited_s:.0f}s this run, another {delay:.0f}s "
                              f"would pass the {self.retry.max_total_wait_s:.0f}s allowed; last cause: {cause}",
                              status)
        self.waited_s += delay
        return delay

    def _connect_hint(self) -> str:
        """For a vendor on this machine (the sandbox): what to do when nothing listens there."""
        if self._origin[1] not in LOOPBACK_HOSTS:
            return ""
        return ("; nothing listens there on this machine: start the sandbox (`make sandbox`) or set the vendor's "
                "base_url")

    def _log_retry(self, endpoint: str, state: RetryCallState) -> None:
        self.retries += 1
        exc = state.outcome.exception() if state.outcome else None
        status = f"HTTP {exc.status}" if isinstance(exc, _Retryable) and exc.status else "no response"
        cause = exc.cause if isinstance(exc, _Retryable) else str(exc)
        log.warning("%s at %s: %s %s (%s), retry %d of %d", self.vendor, self.address, endpoint, status,
                    cause[:120], state.attempt_number, self.retry.attempts - 1)

"""The HTTP layer every provider adapter shares: one pooled session, the timeouts, and the
translation of ``requests`` failures and generic status codes into ``dispatcher.errors``.

Adapters call ``HttpTransport.request`` and get an ``HttpReply`` or an error from the tree; nothing
from ``requests`` escapes this package. Whether a failure is *retryable* or *ambiguous* depends on
whether the request may have reached the provider:

* connect refused / connect timeout / DNS / TLS: the request never left -> ``ConnectFailed``;
* read timeout, or the connection dropping after it was established -> ``ResponseTimedOut`` /
  ``ConnectionLost`` (the provider may have acted on it).

urllib3 is told never to retry on its own: a silent resend of a POST is exactly the duplicate the
design forbids.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NameResolutionError, NewConnectionError
from urllib3.util.retry import Retry

from dispatcher.errors import (
    ConnectFailed,
    ConnectionLost,
    ProviderUnavailable,
    RateLimited,
    ResponseTimedOut,
    UnexpectedResponse,
)

#: Providers' guidance (Revicom: "recommended timeout 70 seconds").
DEFAULT_CONNECT_TIMEOUT_S = 10.0
DEFAULT_READ_TIMEOUT_S = 70.0
#: Connections kept per host; one per worker thread that may talk to the provider at once.
DEFAULT_POOL_SIZE = 16
#: Backoff hint when a 429 carries no usable Retry-After.
DEFAULT_RATE_LIMIT_BACKOFF_S = 1.0


@dataclass(frozen=True, slots=True)
class HttpReply:
    """A complete HTTP response: status, headers (lower-case names) and the raw body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON; a body that is not JSON is an ``UnexpectedResponse``."""
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            raise UnexpectedResponse(
                f"HTTP {self.status} with a body that is not JSON: {self.body[:200]!r}"
            ) from None


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class HttpTransport:
    """A pooled ``requests.Session`` bound to one provider account's base URL and timeouts."""

    def __init__(
        self,
        *,
        provider: str,
        base_url: str,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        read_timeout_s: float = DEFAULT_READ_TIMEOUT_S,
        pool_size: int = DEFAULT_POOL_SIZE,
        session: requests.Session | None = None,
    ) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout_s, read_timeout_s)
        self.session = session or requests.Session()
        # total=0: no retries of any kind; a POST is never re-sent behind our back.
        pooled = HTTPAdapter(
            pool_connections=1, pool_maxsize=pool_size, max_retries=Retry(total=0, read=False)
        )
        self.session.mount("http://", pooled)
        self.session.mount("https://", pooled)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json_body: Any = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        raw_statuses: Collection[int] = (),
    ) -> HttpReply:
        """Send one request and read the whole response, or raise from the error tree.

        Generic statuses are translated here (429, 502/503/504); everything else is returned for
        the adapter to interpret with its provider's documented codes. ``raw_statuses`` are returned
        untranslated too, for a provider that gives one of them a meaning of its own (BSG's 429
        "Too many duplicate request detected" is an idempotency answer, not throttling).
        """
        try:
            response = self.session.request(
                method,
                self.url(path),
                params=params,
                json=json_body,
                data=data,
                headers=dict(headers or {}),
                timeout=self.timeout,
                allow_redirects=False,
            )
            reply = HttpReply(
                status=response.status_code,
                headers={name.lower(): value for name, value in response.headers.items()},
                body=response.content,
            )
        except requests.exceptions.ConnectTimeout:
            raise ConnectFailed("connect timed out", provider=self.provider) from None
        except requests.exceptions.ReadTimeout:
            raise ResponseTimedOut(
                f"no response within {self.timeout[1]:g} s", provider=self.provider
            ) from None
        except requests.exceptions.ConnectionError as exc:
            if _never_connected(exc):
                raise ConnectFailed(f"cannot connect: {_reason(exc)}", provider=self.provider) from None
            raise ConnectionLost(f"connection lost: {_reason(exc)}", provider=self.provider) from None
        except requests.exceptions.RequestException as exc:
            raise ConnectionLost(f"request failed: {_reason(exc)}", provider=self.provider) from None
        if reply.status in raw_statuses:
            return reply
        return self._raise_for_generic_status(reply)

    def _raise_for_generic_status(self, reply: HttpReply) -> HttpReply:
        if reply.status == 429:
            retry_after = parse_retry_after(reply.headers.get("retry-after"))
            raise RateLimited(
                f"HTTP 429, retry after {retry_after if retry_after is not None else '?'} s",
                provider=self.provider,
                retry_after_s=retry_after,
            )
        if reply.status in (502, 503, 504):
            error = ProviderUnavailable(f"HTTP {reply.status}", provider=self.provider)
            error.retry_after_s = parse_retry_after(reply.headers.get("retry-after"))
            raise error
        if reply.status >= 500:
            raise UnexpectedResponse(f"HTTP {reply.status}: {reply.body[:200]!r}", provider=self.provider)
        return reply

    def close(self) -> None:
        self.session.close()


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the failure happened while opening the connection (nothing was sent)."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, NewConnectionError | NameResolutionError | ConnectionRefusedError):
            return True
        if isinstance(cause, requests.exceptions.SSLError):
            return True
        cause = getattr(cause, "reason", None) or cause.__context__
    return False


def _reason(exc: BaseException) -> str:
    # The exception text of requests may carry the full URL, and Smartswitch puts credentials in
    # its query string: keep only the exception type and its innermost reason's type.
    inner: BaseException = exc
    while (nested := getattr(inner, "reason", None)) is not None and isinstance(nested, BaseException):
        inner = nested
    return type(inner).__name__ if inner is exc else f"{type(exc).__name__} ({type(inner).__name__})"

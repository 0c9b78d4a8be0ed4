"""BSG's bearer token: log in with the API key, refresh before expiry, log in again after a 401.

``POST /api/auth/login {"api_key"}`` and ``POST /api/auth/refresh`` (with the current bearer) both
answer ``{"bearer": "<JWT>"}``. The JWT's ``exp`` claim is read without checking the signature: the
token is the provider's, we only need to know when to renew it.

Several worker threads share one adapter and so one ``BsgTokens``: one lock guards every login and
refresh, and a thread that saw a 401 names the token it used, so that after one thread has logged
in again the others take the new token instead of logging in once each.
"""

from __future__ import annotations

import base64
import binascii
import logging
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import orjson

from dispatcher.errors import AmbiguousOutcome, BadCredentials, RetryableError, UnexpectedResponse
from dispatcher.providers.base import HttpReply, HttpTransport

logger = logging.getLogger(__name__)

LOGIN_PATH = "/api/auth/login"
REFRESH_PATH = "/api/auth/refresh"


@dataclass(frozen=True, slots=True)
class BearerToken:
    value: str
    #: Unix time of the JWT's ``exp``; infinite when the token states none (renewed on a 401 only).
    expires_at: float


def jwt_expiry(token: str) -> float:
    """The ``exp`` claim of a JWT as Unix time, or ``inf`` when the payload has no readable one."""
    parts = token.split(".")
    if len(parts) != 3:
        return math.inf
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError):
        return math.inf
    expiry = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(expiry, bool) or not isinstance(expiry, int | float):
        return math.inf
    return float(expiry)


def bearer_from_reply(reply: HttpReply, *, provider: str) -> BearerToken:
    """The token in a login/refresh answer; any other shape is an ``UnexpectedResponse``."""
    body = reply.json()
    token = body.get("bearer") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise UnexpectedResponse(
            f"HTTP {reply.status} from the auth endpoint without a 'bearer' string", provider=provider
        )
    return BearerToken(token, jwt_expiry(token))


class BsgTokens:
    """The current bearer token of one BSG account, shared by every thread of one adapter."""

    def __init__(
        self,
        transport: HttpTransport,
        *,
        api_key: Callable[[], str],
        refresh_margin_s: float,
        clock: Callable[[], float],
    ) -> None:
        self._transport = transport
        self._api_key = api_key
        self._refresh_margin_s = refresh_margin_s
        self._clock = clock
        self._lock = threading.Lock()
        self._token: BearerToken | None = None

    def bearer(self) -> str:
        """A token that is not about to expire: the current one, a refreshed one or a new login."""
        token = self._token
        if token is not None and not self._due(token):
            return token.value
        with self._lock, _nothing_sent_yet(self._transport.provider):
            token = self._token
            if token is None or self._clock() >= token.expires_at:
                token = self._login()
            elif self._due(token):
                token = self._refresh(token)
            self._token = token
            return token.value

    def login_again(self, rejected: str) -> str:
        """After a 401 with ``rejected``: log in once, unless another thread already did."""
        with self._lock, _nothing_sent_yet(self._transport.provider):
            if self._token is None or self._token.value == rejected:
                self._token = self._login()
            return self._token.value

    def _due(self, token: BearerToken) -> bool:
        return self._clock() >= token.expires_at - self._refresh_margin_s

    def _login(self) -> BearerToken:
        reply = self._auth_call(LOGIN_PATH, json_body={"api_key": self._api_key()})
        if reply.status in (200, 201):
            logger.info("%s: logged in", self._transport.provider)
            return bearer_from_reply(reply, provider=self._transport.provider)
        if 400 <= reply.status < 500:
            raise BadCredentials(
                f"login refused with HTTP {reply.status}",
                provider=self._transport.provider,
                code=str(reply.status),
            )
        raise UnexpectedResponse(f"login answered HTTP {reply.status}", provider=self._transport.provider)

    def _refresh(self, token: BearerToken) -> BearerToken:
        reply = self._auth_call(REFRESH_PATH, headers={"Authorization": f"Bearer {token.value}"})
        if reply.status in (200, 201):
            return bearer_from_reply(reply, provider=self._transport.provider)
        # A refused refresh (the token expired meanwhile, or was revoked) is not an account problem yet.
        logger.info("%s: refresh answered HTTP %s, logging in", self._transport.provider, reply.status)
        return self._login()

    def _auth_call(
        self, path: str, *, json_body: object = None, headers: dict[str, str] | None = None
    ) -> HttpReply:
        return self._transport.request("POST", path, json_body=json_body, headers=headers)


@contextmanager
def _nothing_sent_yet(provider: str) -> Iterator[None]:
    """Auth calls happen before the message is posted (or after a 401, which means it was not
    processed): a lost or unreadable auth answer is safe to retry, never an ambiguous send."""
    try:
        yield
    except AmbiguousOutcome as exc:
        raise RetryableError(f"authentication failed: {exc}", provider=provider) from None

"""Bearer API keys for the ``/v1`` routes (not the callbacks, whose path holds their own secret)."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, HTTPException, params
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dispatcher.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="An API key from DISPATCHER_API_KEYS.")


def api_keys_of(settings: Settings) -> tuple[str, ...]:
    """The keys in ``DISPATCHER_API_KEYS`` (comma-separated; blanks ignored)."""
    if settings.api_keys is None:
        return ()
    return tuple(key.strip() for key in settings.api_keys.get_secret_value().split(",") if key.strip())


def require_api_key(keys: Sequence[str]) -> params.Depends:
    """A dependency refusing (401) a request without one of ``keys``; no keys: every request."""
    expected = [key.encode() for key in keys]

    def check(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> None:
        given = credentials.credentials.encode() if credentials is not None else b""
        # Compare with every key, always: the time taken says nothing about which one came close.
        matched = False
        for key in expected:
            matched |= hmac.compare_digest(given, key)
        if credentials is None or not matched:
            raise HTTPException(401, "missing or wrong API key", headers={"WWW-Authenticate": "Bearer"})

    dependency: params.Depends = Depends(check)
    return dependency

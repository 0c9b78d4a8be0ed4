"""BSG's bearer tokens: HS256 JWTs signed with a secret that lives only in this process."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import orjson

_HEADER = {"alg": "HS256", "typ": "JWT"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class JwtSigner:
    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)

    def issue(self, subject: str, lifetime_s: float) -> str:
        now = time.time()
        claims = {
            "sub": subject,
            "iat": int(now),
            # NumericDate may be fractional (RFC 7519 §2): short test lifetimes stay exact.
            "exp": round(now + lifetime_s, 3),
            "jti": secrets.token_hex(8),
        }
        signing_input = f"{_b64(orjson.dumps(_HEADER))}.{_b64(orjson.dumps(claims))}"
        return f"{signing_input}.{self._signature(signing_input)}"

    def _signature(self, signing_input: str) -> str:
        return _b64(hmac.new(self._secret, signing_input.encode(), hashlib.sha256).digest())

    def subject(self, token: str) -> str | None:
        """The subject of a valid, unexpired token we issued; None for anything else."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        signing_input = f"{parts[0]}.{parts[1]}"
        if not hmac.compare_digest(self._signature(signing_input), parts[2]):
            return None
        try:
            header = orjson.loads(_unb64(parts[0]))
            claims = orjson.loads(_unb64(parts[1]))
        except (ValueError, orjson.JSONDecodeError):
            return None
        if header != _HEADER or not isinstance(claims, dict):
            return None
        expires = claims.get("exp")
        if isinstance(expires, bool) or not isinstance(expires, int | float) or expires <= time.time():
            return None
        subject = claims.get("sub")
        return subject if isinstance(subject, str) else None

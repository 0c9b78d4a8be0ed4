"""Webhook signatures: the Standard Webhooks scheme (https://www.standardwebhooks.com), so receivers
verify with a ready-made library (``standardwebhooks.Webhook(secret).verify(body, headers)``).

Each POST carries ``webhook-id`` (the event id: the same on every retry, so receivers can drop a
duplicate), ``webhook-timestamp`` (epoch seconds) and ``webhook-signature`` (``v1,<base64>``: an
HMAC-SHA256 over ``<id>.<timestamp>.<body>`` with the secret's bytes). The secret is written
``whsec_<base64>``, as the scheme's libraries take it.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from standardwebhooks import Webhook

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
SECRET_PREFIX = "whsec_"  # noqa: S105 - the scheme's marker, not a secret
#: The scheme asks for 24..64 random bytes.
SECRET_BYTES = (24, 64)
SECRET_RULE = (
    f"must be {SECRET_PREFIX} followed by the base64 of {SECRET_BYTES[0]}..{SECRET_BYTES[1]} random bytes"
)


def webhook_key(secret: str) -> Webhook:
    """The signer of ``secret``; ValueError stating ``SECRET_RULE`` for anything else."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(SECRET_RULE)
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(SECRET_RULE) from None
    if not SECRET_BYTES[0] <= len(key) <= SECRET_BYTES[1]:
        raise ValueError(SECRET_RULE)
    return Webhook(key)


def new_secret() -> str:
    """A fresh secret (32 random bytes)."""
    import secrets  # noqa: PLC0415 - only the CLI makes secrets

    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signed_headers(signer: Webhook, event_id: str, timestamp_s: int, body: bytes) -> dict[str, str]:
    """The request headers of one POST of ``body``."""
    at = datetime.fromtimestamp(timestamp_s, tz=UTC)
    return {
        "Content-Type": "application/json",
        ID_HEADER: event_id,
        TIMESTAMP_HEADER: str(timestamp_s),
        SIGNATURE_HEADER: signer.sign(event_id, at, body.decode()),
    }

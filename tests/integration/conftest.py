"""Integration fixtures: a real Redis, a private random key prefix per test, and a store on both.

Every key a test writes is under ``{<prefix>}:`` and is deleted afterwards, so tests never touch
other data and can run against a shared Redis.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Sequence

import pytest
import redis

from dispatcher.store import NewMessage, Store

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="session")
def redis_url() -> str:
    return os.environ.get("DISPATCHER_REDIS_URL", DEFAULT_REDIS_URL)


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A client returning bytes (what the store needs: wire items come back byte for byte)."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def key_prefix(redis_client: redis.Redis) -> Iterator[str]:
    """A fresh prefix (``t<hex8>``); every ``{prefix}:*`` key is deleted after the test."""
    prefix = f"t{secrets.token_hex(4)}"
    yield prefix
    pattern = f"{{{prefix}}}:*"
    doomed = list(redis_client.scan_iter(match=pattern, count=10_000))
    for start in range(0, len(doomed), 1000):
        redis_client.delete(*doomed[start : start + 1000])


@pytest.fixture
def store(redis_client: redis.Redis, key_prefix: str) -> Store:
    return Store(redis_client, prefix=key_prefix)


class MessageFactory:
    """Distinct, time-ordered test messages with a realistic ~120-byte SMS wire item."""

    def __init__(self) -> None:
        self._serial = 0

    def __call__(
        self,
        count: int,
        *,
        lane: str = "revicom:bulk",
        campaign: str | None = None,
        ttl_s: float = 86_400,
        idempotency_keys: Sequence[str | None] | None = None,
    ) -> list[NewMessage]:
        messages = []
        for index in range(count):
            self._serial += 1
            destination = f"7916{self._serial:07d}"
            wire = (
                b'{"channelType":"SMS","senderName":"SHOP","destination":"%s",'
                b'"content":"Your order %07d has shipped"}' % (destination.encode(), self._serial)
            )
            messages.append(
                NewMessage(
                    id=f"{self._serial:011x}{secrets.token_hex(6)[:11]}",
                    lane=lane,
                    provider=lane.split(":", maxsplit=1)[0],
                    wire=wire,
                    ttl_s=ttl_s,
                    campaign=campaign,
                    idempotency_key=idempotency_keys[index] if idempotency_keys else None,
                    channel="sms",
                )
            )
        return messages


@pytest.fixture
def make_messages() -> MessageFactory:
    return MessageFactory()


def claim_held(store: Store, campaign_id: str, *, lane: str = "revicom:bulk", lease_s: float = 60) -> str:
    """Begin a held campaign as a producer does (``claim_campaign``); returns its owner token."""
    owner = secrets.token_hex(8)
    claimed = store.claim_campaign(
        campaign_id,
        account=lane.split(":", maxsplit=1)[0],
        lane=lane,
        owner=owner,
        lease_s=lease_s,
        template_digest="t",
    )
    assert claimed is None, f"campaign {campaign_id} exists: {claimed}"
    return owner

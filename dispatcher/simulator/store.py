"""Every message the simulator accepted, with its state, and the provider-style ids it hands out."""

from __future__ import annotations

import itertools
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True, eq=False)
class SimMessage:
    """One accepted message. ``payload`` is the request item as received (shared, not copied)."""

    provider: str
    id: str
    destination: str
    channel: str
    request_seq: int
    payload: dict[str, Any]
    status: str
    created_at: float
    tags: list[str] = field(default_factory=list)
    reference_id: str | None = None
    callback_url: str | None = None
    callback_events: tuple[str, ...] = ()
    not_before: float = 0.0
    sent_at: float | None = None
    status_at: float = 0.0
    final: bool = False
    stop_requested: bool = False
    forced_outcome: str | None = None
    error_code: int | None = None

    def summary(self) -> dict[str, Any]:
        """The control API's view (``GET /_sim/messages``)."""
        return {
            "provider": self.provider,
            "id": self.id,
            "destination": self.destination,
            "channel": self.channel,
            "tags": self.tags,
            "reference_id": self.reference_id,
            "status": self.status,
            "final": self.final,
            "callback_url": self.callback_url,
            "callback_events": list(self.callback_events),
            "request_seq": self.request_seq,
            "created_at": self.created_at,
            "sent_at": self.sent_at,
            "status_at": self.status_at,
            "error_code": self.error_code,
        }


class IdFactory:
    """Cheap unique ids in each provider's style; they never repeat within a process, even after reset."""

    def __init__(self) -> None:
        # Revicom's documented uuids look sequential within one prefix (...-984395000004, ...-05).
        prefix = secrets.token_hex(10)
        self._uuid_prefix = f"{prefix[:8]}-{prefix[8:12]}-4{prefix[13:16]}-a{prefix[17:20]}-"
        self._uuid_counter = itertools.count(secrets.randbelow(1 << 40))
        self._smartswitch_counter = itertools.count(int(time.time() * 1000))
        self._bsg_counter = itertools.count(3_272_625_600 + secrets.randbelow(1_000_000))

    def revicom_uuid(self) -> str:
        return f"{self._uuid_prefix}{next(self._uuid_counter):012x}"

    def smartswitch_id(self) -> str:
        return str(next(self._smartswitch_counter))

    def bsg_id(self) -> int:
        return next(self._bsg_counter)


class MessageStore:
    """Messages by provider and id, plus the lookups the provider APIs need."""

    def __init__(self) -> None:
        self.by_provider: dict[str, dict[str, SimMessage]] = defaultdict(dict)
        self.revicom_by_tag: dict[str, list[SimMessage]] = defaultdict(list)
        self.bsg_by_reference: dict[str, SimMessage] = {}

    def add(self, message: SimMessage) -> None:
        self.by_provider[message.provider][message.id] = message
        if message.provider == "revicom":
            for tag in message.tags:
                self.revicom_by_tag[tag].append(message)
        elif message.reference_id is not None:
            self.bsg_by_reference[message.reference_id] = message

    def get(self, provider: str, message_id: str) -> SimMessage | None:
        return self.by_provider[provider].get(message_id)

    def all(self, provider: str | None = None) -> list[SimMessage]:
        if provider is not None:
            return list(self.by_provider[provider].values())
        return [message for messages in self.by_provider.values() for message in messages.values()]

    def clear(self) -> None:
        self.by_provider.clear()
        self.revicom_by_tag.clear()
        self.bsg_by_reference.clear()

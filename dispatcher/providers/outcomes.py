"""What a provider said about our messages: one outcome per sent message, and delivery reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal


@dataclass(frozen=True, slots=True)
class Submitted:
    """The provider accepted the message and gave it this id."""

    provider_message_id: str
    segments: int | None = None


@dataclass(frozen=True, slots=True)
class Rejected:
    """The provider refused this message alone (the rest of its request went on)."""

    code: str
    reason: str


Outcome = Submitted | Rejected


class DeliveryStatus(StrEnum):
    """Provider-reported states, normalised across providers (docs/architecture.md)."""

    SENT = "sent"  # handed to the network (Revicom sent, BSG sent, Smartswitch enroute/accepted)
    DELIVERED = "delivered"
    READ = "read"
    UNDELIVERED = "undelivered"  # not delivered within its lifetime or refused by the network
    EXPIRED = "expired"
    FAILED = "failed"  # the provider gave up (BSG failed, Smartswitch rejected, Revicom unsent)
    NOT_SERVICE_USER = "not_service_user"  # RCS/Viber: the number cannot receive this channel
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """One event a provider reported about one of its messages (a callback, or a looked-up state).

    ``kind`` is ``status`` for state changes; ``click`` and ``price`` events carry no status.
    """

    provider: str
    provider_message_id: str
    kind: Literal["status", "click", "price"]
    status: DeliveryStatus | None
    provider_status: str
    occurred_at: datetime | None = None
    error_code: str | None = None
    #: Our idempotency key echoed by the provider (BSG ``reference``), when it has one.
    reference: str | None = None

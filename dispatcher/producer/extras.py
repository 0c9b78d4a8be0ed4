"""What a message carries beyond its wire item, decided at intake (pure): when it may go (send
time, sending window), its RCS → SMS fallback and whether its status changes go to a webhook."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dispatcher.errors import InvalidMessage, Problem
from dispatcher.models.bsg import BsgRcs
from dispatcher.models.revicom import RevicomSms, RevicomVk
from dispatcher.models.smartswitch import SmartswitchSms
from dispatcher.producer.windows import SendingWindow, zone_of
from dispatcher.store import NewMessage
from dispatcher.store.fallbacks import fallback_payload
from dispatcher.store.intake import Extras

#: Revicom applies these windows itself (``hours``, ``days``, ``useLocalTime``).
_NATIVE_WINDOW = (RevicomSms, RevicomVk)


@dataclass(frozen=True, slots=True)
class SmsFallback:
    """An RCS message's SMS stand-in: sent once if the RCS message fails, expires, is undelivered,
    reaches no RCS user, or is not delivered or read within ``deadline_s`` of its send time.

    ``account``: the SMS account (Revicom or Smartswitch; default: the first Revicom account).
    """

    text: str
    sender: str
    account: str | None = None
    deadline_s: float = 300.0


@dataclass(frozen=True, slots=True)
class Delivery:
    """A call's when-and-where options, checked."""

    send_at: float | None = None
    window: SendingWindow | None = None
    webhook_url: str | None = None
    #: Whether status changes go anywhere (a webhook here, on the campaign or by default).
    watch: bool = False

    @classmethod
    def checked(
        cls,
        *,
        send_at: datetime | float | None,
        window: SendingWindow | None,
        webhook_url: str | None,
        default_webhook_url: str | None,
    ) -> Delivery:
        if webhook_url is not None and not webhook_url.startswith(("http://", "https://")):
            raise InvalidMessage([Problem("webhook_url", webhook_url, "must be an http(s) URL")])
        return cls(
            send_at=_epoch("send_at", send_at),
            window=window,
            webhook_url=webhook_url,
            watch=webhook_url is not None or default_webhook_url is not None,
        )


def _epoch(field: str, value: datetime | float | None) -> float | None:
    if value is None or isinstance(value, float | int):
        return None if value is None else float(value)
    if value.tzinfo is None:
        raise InvalidMessage([Problem(field, value.isoformat(), "needs a time zone (an aware datetime)")])
    return value.timestamp()


def destination(message: object) -> str:
    if isinstance(message, SmartswitchSms):
        return message.destination_number
    if isinstance(message, BsgRcs):
        return message.phone.number
    return str(getattr(message, "destination", ""))


def with_native_window(message: Any, window: SendingWindow | None) -> Any:
    """A Revicom SMS/VK message with the window in its own fields; any other message as it is."""
    if window is None or not isinstance(message, _NATIVE_WINDOW):
        return message
    if message.hours is not None or message.days is not None:
        raise InvalidMessage([Problem("window", "hours/days", "give the window or the message's hours/days")])
    return message.model_copy(
        update={
            "hours": tuple(sorted(window.hours)),
            "days": tuple(sorted(window.days)),
            "use_local_time": True,
        }
    )


def release_at(message: object, delivery: Delivery, *, now: float | None) -> float | None:
    """When the message may go to its lane: its send time, or the first opening of its sending
    window from then on (None: at once). The store compares it with Redis' clock (a time already
    passed: at once) and with the message's deadline (a later one: it expires instead of going).

    ``now``: Redis' clock, needed (and only then given) to find the next opening of a window this
    message waits for itself (Revicom SMS/VK carry their window to the provider)."""
    if delivery.window is None or isinstance(message, _NATIVE_WINDOW):
        return delivery.send_at
    if now is None:
        raise ValueError("release_at: a sending window needs the current time")
    start = datetime.fromtimestamp(max(now, delivery.send_at or now), UTC)
    return delivery.window.next_open(start, zone_of(destination(message))).timestamp()


def plan_extras(
    messages: Sequence[object],
    records: Sequence[NewMessage],
    delivery: Delivery,
    *,
    now: float | None,
    fallbacks: Mapping[str, tuple[NewMessage, float]] | None = None,
) -> dict[str, Extras]:
    """Extras per record id (only those that have any). ``now``: Redis' clock where the delivery
    has a window (see ``release_at``), else None. ``fallbacks``: record id -> (its SMS, seconds
    after its send time by which delivered/read must come)."""
    planned: dict[str, Extras] = {}
    for message, record in zip(messages, records, strict=True):
        at = release_at(message, delivery, now=now)
        fields: dict[str, str] = {}
        if delivery.webhook_url is not None:
            fields["wh"] = delivery.webhook_url
        within_s = None
        if fallbacks is not None and record.id in fallbacks:
            sms, within_s = fallbacks[record.id]
            fields.update(fb=fallback_payload(sms), fbi=sms.id)
        if at is not None or fields or delivery.watch:
            planned[record.id] = Extras(at, fields, within_s, delivery.watch)
    return planned

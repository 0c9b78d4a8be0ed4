"""What a message carries beyond its wire item, decided at intake (pure): when it may go (send
time, sending window), its RCS → SMS fallback and whether its status changes go to a webhook."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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
class ScheduleLimits:
    """How far ahead a send time may be, and how far behind (``Settings.max_schedule_ahead_s``,
    ``Settings.send_at_past_tolerance_s``)."""

    ahead_s: float
    past_tolerance_s: float


@dataclass(frozen=True, slots=True)
class Delivery:
    """A call's when-and-where options, checked."""

    send_at: float | None = None
    window: SendingWindow | None = None
    webhook_url: str | None = None
    #: Whether status changes go anywhere (a webhook here, on the campaign or by default).
    watch: bool = False
    #: Redis' clock when the options were checked, for a call whose messages wait for a time (a
    #: send time or a window); None otherwise (nothing else needs it).
    now: float | None = None

    @classmethod
    def checked(
        cls,
        *,
        send_at: datetime | float | None,
        window: SendingWindow | None,
        webhook_url: str | None,
        default_webhook_url: str | None,
        limits: ScheduleLimits,
        clock: Callable[[], float],
    ) -> Delivery:
        """The options, or InvalidMessage naming the broken one (``webhook_url`` is checked by
        ``WebhookUrls`` before). ``clock``: Redis' clock, read only when there is a send time or a
        window."""
        at = _epoch("send_at", send_at)
        now = clock() if at is not None or window is not None else None
        if at is not None and now is not None:
            _check_send_time(send_at, at, now=now, limits=limits)
        return cls(
            send_at=at,
            window=window,
            webhook_url=webhook_url,
            watch=webhook_url is not None or default_webhook_url is not None,
            now=now,
        )


def _check_send_time(given: object, at: float, *, now: float, limits: ScheduleLimits) -> None:
    """A send time beyond the horizon, or further in the past than the tolerance, is refused: the
    first would wait longer than anyone plans for, the second is most likely a mistake (to send
    now, give no send time)."""
    shown = given.isoformat() if isinstance(given, datetime) else given
    if at > now + limits.ahead_s:
        rule = f"must be at most {_duration(limits.ahead_s)} ahead (DISPATCHER_MAX_SCHEDULE_AHEAD_S)"
        raise InvalidMessage([Problem("send_at", shown, rule)])
    if at < now - limits.past_tolerance_s:
        rule = f"is {_duration(now - at)} in the past; leave send_at out to send now"
        raise InvalidMessage([Problem("send_at", shown, rule)])


def _duration(seconds: float) -> str:
    """``31 days``, ``5 h``, ``12 min``, ``40 s``: how far a time is, for a person."""
    for unit_s, name in ((86400, " days"), (3600, " h"), (60, " min")):
        if seconds >= 2 * unit_s:
            return f"{seconds / unit_s:.0f}{name}"
    return f"{seconds:.0f} s"


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


def release_at(message: object, delivery: Delivery) -> float | None:
    """When the message may go to its lane: its send time, or the first opening of its sending
    window from then on (None: at once). The store compares it with Redis' clock (a time already
    passed: at once) and counts the message's deadline from it.

    A window the message waits for itself (Revicom SMS/VK carry theirs to the provider) opens next
    after the later of the send time and ``delivery.now``."""
    if delivery.window is None or isinstance(message, _NATIVE_WINDOW):
        return delivery.send_at
    if delivery.now is None:
        raise ValueError("release_at: a sending window needs the time it was checked at")
    start = datetime.fromtimestamp(max(delivery.now, delivery.send_at or delivery.now), UTC)
    return delivery.window.next_open(start, zone_of(destination(message))).timestamp()


def plan_extras(
    messages: Sequence[object],
    records: Sequence[NewMessage],
    delivery: Delivery,
    *,
    fallbacks: Mapping[str, tuple[NewMessage, float]] | None = None,
) -> dict[str, Extras]:
    """Extras per record id (only those that have any). ``fallbacks``: record id -> (its SMS,
    seconds after its send time by which delivered/read must come)."""
    planned: dict[str, Extras] = {}
    for message, record in zip(messages, records, strict=True):
        at = release_at(message, delivery)
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

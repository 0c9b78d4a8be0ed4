"""Sending windows: the hours and days a subscriber may be messaged, in their local time (pure).

Revicom applies a window itself (``hours``, ``days``, ``useLocalTime``); for Smartswitch and BSG the
dispatcher holds the message until ``next_open`` in the number's time zone (``zone_of``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezones

from dispatcher.errors import InvalidMessage, Problem

ALL_DAYS = frozenset(range(1, 8))
#: Every zone offset is a multiple of 15 minutes, so every local hour starts on a UTC quarter hour.
_STEP = timedelta(minutes=15)
_STEPS_IN_A_WEEK = 7 * 24 * 4 + 1


@dataclass(frozen=True, slots=True)
class SendingWindow:
    """``SendingWindow(hours=range(9, 21), days=range(1, 6))``: 09:00-20:59, Monday to Friday.

    ``hours`` are local hours 0..23 in which a message may start; ``days`` ISO weekdays (1 Monday
    .. 7 Sunday), the numbering Revicom uses.
    """

    hours: frozenset[int]
    days: frozenset[int] = ALL_DAYS

    def __init__(self, hours: object, days: object = ALL_DAYS) -> None:
        object.__setattr__(self, "hours", _int_set("window.hours", hours, 0, 23))
        object.__setattr__(self, "days", _int_set("window.days", days, 1, 7))

    def is_open(self, local: datetime) -> bool:
        return local.hour in self.hours and local.isoweekday() in self.days

    def next_open(self, moment: datetime, zone: tzinfo) -> datetime:
        """The first instant at or after ``moment`` (aware) when the window is open in ``zone``."""
        if self.is_open(moment.astimezone(zone)):
            return moment
        utc = moment.astimezone(UTC)
        step = utc.replace(minute=utc.minute - utc.minute % 15, second=0, microsecond=0)
        for _ in range(_STEPS_IN_A_WEEK):
            step += _STEP
            if self.is_open(step.astimezone(zone)):
                return step
        raise AssertionError("a window with an hour and a day opens within a week")


def _int_set(field: str, value: object, low: int, high: int) -> frozenset[int]:
    numbers: frozenset[object] = frozenset(value) if isinstance(value, Iterable) else frozenset()
    if not numbers or not all(
        isinstance(n, int) and not isinstance(n, bool) and low <= n <= high for n in numbers
    ):
        raise InvalidMessage([Problem(field, value, f"must be a non-empty set of integers {low}..{high}")])
    return frozenset(n for n in numbers if isinstance(n, int))


#: Where a prefix spans several zones (a mobile range valid country-wide), the zone most of the
#: country's subscribers live in; elsewhere the prefix's first zone.
MAIN_ZONE_OF_REGION = {
    "RU": "Europe/Moscow",
    "KZ": "Asia/Almaty",
    "US": "America/New_York",
    "CA": "America/Toronto",
    "GB": "Europe/London",
    "BR": "America/Sao_Paulo",
    "MX": "America/Mexico_City",
    "AU": "Australia/Sydney",
    "ID": "Asia/Jakarta",
}


@cache
def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def zone_of(msisdn: str) -> tzinfo:
    """The subscriber's time zone from the number (the first zone of its prefix; UTC if unknown)."""
    try:
        number = phonenumbers.parse("+" + msisdn.lstrip("+"))
    except phonenumbers.NumberParseException:
        return UTC
    names = phone_timezones.time_zones_for_number(number)
    if len(names) > 1:
        main = MAIN_ZONE_OF_REGION.get(phonenumbers.region_code_for_number(number) or "")
        if main in names:
            return _zone(main)
    return _zone(names[0]) if names and names[0] != phone_timezones.UNKNOWN_TIMEZONE else UTC

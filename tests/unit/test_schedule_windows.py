"""Sending windows, callback mapping and webhook signatures: pure logic, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from dispatcher.callbacks.mapping import state_report, triggers_fallback
from dispatcher.errors import InvalidMessage
from dispatcher.models.smartswitch import SmartswitchSms
from dispatcher.producer.extras import Delivery, ScheduleLimits, release_at
from dispatcher.producer.windows import SendingWindow, zone_of
from dispatcher.providers.outcomes import DeliveryReport, DeliveryStatus

MOSCOW = ZoneInfo("Europe/Moscow")
KOLKATA = ZoneInfo("Asia/Kolkata")


def test_an_open_window_keeps_the_moment() -> None:
    moment = datetime(2025, 1, 6, 9, 30, tzinfo=MOSCOW)  # Monday
    assert SendingWindow(hours=range(9, 21)).next_open(moment, MOSCOW) == moment


def test_a_closed_window_opens_at_the_next_allowed_local_hour_and_day() -> None:
    saturday_noon = datetime(2025, 1, 4, 12, 0, tzinfo=MOSCOW)
    opens = SendingWindow(hours=range(9, 21), days=range(1, 6)).next_open(saturday_noon, MOSCOW)
    assert opens.astimezone(MOSCOW) == datetime(2025, 1, 6, 9, 0, tzinfo=MOSCOW)


def test_half_hour_zones_open_on_their_own_hour() -> None:
    opens = SendingWindow(hours={9}).next_open(datetime(2025, 1, 6, 0, 0, tzinfo=UTC), KOLKATA)
    assert opens.astimezone(KOLKATA).replace(tzinfo=None) == datetime(2025, 1, 6, 9, 0)


@pytest.mark.parametrize(("hours", "days"), [(set(), {1}), ({24}, {1}), ({9}, {0}), ({9}, "12")])
def test_a_window_needs_real_hours_and_days(hours: object, days: object) -> None:
    with pytest.raises(InvalidMessage):
        SendingWindow(hours=hours, days=days)


def test_the_zone_comes_from_the_number() -> None:
    assert str(zone_of("79161234567")) == "Europe/Moscow"
    assert str(zone_of("12125551234")) == "America/New_York"
    assert zone_of("0") == UTC


def test_a_send_time_is_the_release_time_and_the_store_decides_against_its_clock() -> None:
    # The store compares it with Redis' clock (passed: at once) and counts the deadline from it.
    assert release_at(object(), Delivery(send_at=1_000.0)) == 1_000.0
    assert release_at(object(), Delivery()) is None


def test_a_window_is_found_from_the_send_time_or_now_whichever_is_later() -> None:
    new_york = SmartswitchSms(destination_number="12125551234", body="Hi")
    monday_3am_there = datetime(2030, 1, 7, 8, 0, tzinfo=UTC).timestamp()
    nine_to_five = Delivery(window=SendingWindow(hours=set(range(9, 17))), now=monday_3am_there)

    opens = release_at(new_york, nine_to_five)

    assert opens == datetime(2030, 1, 7, 9, 0, tzinfo=ZoneInfo("America/New_York")).timestamp()
    with pytest.raises(ValueError, match="needs the time it was checked at"):
        release_at(new_york, Delivery(window=SendingWindow(hours={9})))


LIMITS = ScheduleLimits(ahead_s=31 * 86400, past_tolerance_s=300)
NOW = 1_900_000_000.0


def checked(send_at: datetime | float | None, *, window: SendingWindow | None = None) -> Delivery:
    return Delivery.checked(
        send_at=send_at,
        window=window,
        webhook_url=None,
        default_webhook_url=None,
        limits=LIMITS,
        clock=lambda: NOW,
    )


def test_a_send_time_within_the_horizon_is_kept_with_the_time_it_was_checked_at() -> None:
    delivery = checked(NOW + 30 * 86400)

    assert (delivery.send_at, delivery.now) == (NOW + 30 * 86400, NOW)
    assert checked(None).now is None, "no send time, no window: no clock read"
    assert checked(None, window=SendingWindow(hours={9})).now == NOW


def test_a_send_time_beyond_the_horizon_is_refused_naming_the_limit() -> None:
    far = datetime.fromtimestamp(NOW + 32 * 86400, UTC)

    with pytest.raises(InvalidMessage) as refused:
        checked(far)

    (problem,) = refused.value.problems
    assert (problem.field, problem.value) == ("send_at", far.isoformat())
    assert problem.rule == "must be at most 31 days ahead (DISPATCHER_MAX_SCHEDULE_AHEAD_S)"


def test_a_send_time_in_the_past_is_sent_now_within_the_tolerance_and_refused_beyond_it() -> None:
    assert checked(NOW - 299).send_at == NOW - 299

    with pytest.raises(
        InvalidMessage, match=r"send_at=1899996400.0: is 60 min in the past; leave send_at out"
    ):
        checked(NOW - 3600)


def report(status: DeliveryStatus | None, kind: str = "status") -> DeliveryReport:
    return DeliveryReport("bsg", "1", kind, status, str(status), error_code=None)  # type: ignore[arg-type]


def test_reports_map_to_our_states_and_failures_call_for_the_fallback() -> None:
    assert state_report(report(DeliveryStatus.NOT_SERVICE_USER)).target == "undelivered"
    assert state_report(report(None, kind="click")).target == ""
    assert triggers_fallback(report(DeliveryStatus.EXPIRED))
    assert not triggers_fallback(report(DeliveryStatus.DELIVERED))

"""Sending windows, callback mapping and webhook signatures: pure logic, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from dispatcher.callbacks.mapping import state_report, triggers_fallback
from dispatcher.errors import InvalidMessage
from dispatcher.models.smartswitch import SmartswitchSms
from dispatcher.producer.extras import Delivery, release_at
from dispatcher.producer.windows import SendingWindow, zone_of
from dispatcher.providers.outcomes import DeliveryReport, DeliveryStatus
from dispatcher.webhooks.signing import retry_delay_s, signature, verify

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
    # The store compares it with Redis' clock (passed: at once) and the deadline (later: expired).
    assert release_at(object(), Delivery(send_at=1_000.0), now=None) == 1_000.0
    assert release_at(object(), Delivery(), now=None) is None


def test_a_window_is_found_from_the_send_time_or_now_whichever_is_later() -> None:
    nine_to_five = SendingWindow(hours=set(range(9, 17)))
    monday_8am_utc = datetime(2030, 1, 7, 8, 0, tzinfo=UTC).timestamp()
    delivery = Delivery(window=nine_to_five)

    opens = release_at(
        SmartswitchSms(destination_number="12125551234", body="Hi"), delivery, now=monday_8am_utc
    )

    assert opens == datetime(2030, 1, 7, 9, 0, tzinfo=ZoneInfo("America/New_York")).timestamp()
    with pytest.raises(ValueError, match="needs the current time"):
        release_at(SmartswitchSms(destination_number="12125551234", body="Hi"), delivery, now=None)


def report(status: DeliveryStatus | None, kind: str = "status") -> DeliveryReport:
    return DeliveryReport("bsg", "1", kind, status, str(status), error_code=None)  # type: ignore[arg-type]


def test_reports_map_to_our_states_and_failures_call_for_the_fallback() -> None:
    assert state_report(report(DeliveryStatus.NOT_SERVICE_USER)).target == "undelivered"
    assert state_report(report(None, kind="click")).target == ""
    assert triggers_fallback(report(DeliveryStatus.EXPIRED))
    assert not triggers_fallback(report(DeliveryStatus.DELIVERED))


def test_a_signature_covers_timestamp_and_body() -> None:
    given = signature("k" * 16, "1700000000", b"{}")
    assert verify("k" * 16, "1700000000", b"{}", given)
    assert not verify("k" * 16, "1700000001", b"{}", given)
    assert retry_delay_s(3, base_s=1, cap_s=5) == 5

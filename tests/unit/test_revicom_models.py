"""Every Revicom rule of the fields all channels share, and of SMS and VK: a violation is an
InvalidMessage naming field, value and rule; valid input passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dispatcher.errors import InvalidMessage
from dispatcher.models.common import build
from dispatcher.models.revicom import (
    RevicomFlashCall,
    RevicomSms,
    RevicomVk,
    RevicomVoiceCode,
    build_revicom_message,
)
from tests.unit.revicom_support import (
    BASES,
    NUMBER,
    SMS,
    VK,
    assert_breaks,
    local,
    problem_for,
    utc_now,
)

# ---- valid messages ------------------------------------------------------------------------------


def test_every_channel_accepts_its_minimal_message() -> None:
    for model, data in BASES.items():
        message = build(model, data)
        assert message.destination == NUMBER


def test_destination_is_normalised_to_digits() -> None:
    assert build(RevicomSms, {**SMS, "destination": "+1 (408) 555-3911"}).destination == NUMBER


def test_sms_accepts_every_documented_option() -> None:
    now = utc_now()
    message = build(
        RevicomSms,
        {
            **SMS,
            "tags": ["tag1", "Tag_2"],
            "use_local_time": True,
            "local_send_time": local(now + timedelta(hours=1)),
            "local_completion_time": local(now + timedelta(days=2)),
            "ttl_s": 43200,
            "hours": [12, 13, 14],
            "days": [1, 2],
            "short_url": True,
            "callback_url": "https://login:p%40ss@company.com:8443/callback?x=1",
            "callback_events": ["sent", "delivered", "read", "price", "click"],
        },
    )
    assert message.hours == (12, 13, 14)
    assert message.local_send_time is not None


def test_unset_callback_events_are_left_to_the_provider_default() -> None:
    message = build(RevicomSms, {**SMS, "callback_url": "https://company.com/callback"})
    assert message.callback_events is None


def test_local_time_accepts_a_naive_datetime_and_drops_microseconds() -> None:
    moment = utc_now() + timedelta(hours=1, microseconds=5)
    message = build(RevicomVk, {**VK, "local_send_time": moment})
    assert message.local_send_time == moment.replace(microsecond=0)


def test_models_survive_a_json_round_trip() -> None:
    message = build(RevicomSms, {**SMS, "local_send_time": local(utc_now() + timedelta(hours=1))})
    assert build(RevicomSms, message.model_dump(mode="json")) == message


def test_stored_message_reloads_without_time_windows() -> None:
    data = {**SMS, "channel": "SMS", "local_send_time": "2020-01-01 18:00:00"}
    message = build_revicom_message(data, context={"time_windows": False})
    assert isinstance(message, RevicomSms)


# ---- fields common to all channels ---------------------------------------------------------------


@pytest.mark.parametrize("model", list(BASES))
@pytest.mark.parametrize("number", ["1408", "not a number", ""])
def test_destination_must_be_a_valid_number(model: type[Any], number: str) -> None:
    assert_breaks(model, {"destination": number}, "destination", "valid phone number")


@pytest.mark.parametrize("model", list(BASES))
@pytest.mark.parametrize("tag", ["bad-tag", "with space", "", "тег", "ta\u0301g"])
def test_tags_must_match_word_characters(model: type[Any], tag: str) -> None:
    assert_breaks(model, {"tags": ["ok", tag]}, "tags.1", r"^\w+$")


@pytest.mark.parametrize("model", list(BASES))
@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("ftp://company.com/callback", "http:// or https://"),
        ("company.com/callback", "http:// or https://"),
        ("https://company.com/call back", "RFC 3986"),
        ("https://company.com/путь", "RFC 3986"),
        ("https://company.com/%zz", "RFC 3986"),
        ("https:///callback", "host"),
        ("https://company.com:99999/callback", "port"),
        ("https://company.com:/callback", "host"),
        ("https://company.com:port/callback", "port"),
    ],
)
def test_callback_url_must_be_an_http_uri(model: type[Any], url: str, rule: str) -> None:
    assert_breaks(model, {"callback_url": url}, "callback_url", rule)


@pytest.mark.parametrize("model", list(BASES))
@pytest.mark.parametrize("url", ["http://[::1", "http://[::1/cb", "https://[not-ipv6]/cb", "http://]/cb"])
def test_a_callback_url_urllib_cannot_split_is_refused_with_our_rule(model: type[Any], url: str) -> None:
    # urlsplit raises ValueError ("Invalid IPv6 URL"); the problem carries our rule, not urllib's text.
    problem = problem_for(model, {**BASES[model], "callback_url": url}, "callback_url")

    assert problem.value == url
    assert problem.rule.startswith("callback URL must be an absolute http:// or https:// URL"), problem
    assert "Value error" not in problem.rule
    assert "IPv6" not in problem.rule


@pytest.mark.parametrize("model", list(BASES))
def test_callback_url_may_embed_login_and_password(model: type[Any]) -> None:
    url = "http://login:password@company.com/callback"
    assert build(model, {**BASES[model], "callback_url": url}).callback_url == url


@pytest.mark.parametrize("model", list(BASES))
def test_callback_events_must_be_documented_events(model: type[Any]) -> None:
    changes = {"callback_url": "https://company.com/cb", "callback_events": ["delivered", "opened"]}
    assert_breaks(model, changes, "callback_events.1", "'click'")


@pytest.mark.parametrize("model", list(BASES))
@pytest.mark.parametrize(("events", "rule"), [(["sent", "sent"], "unique"), ([], "at least one")])
def test_callback_events_must_be_unique_and_not_empty(model: type[Any], events: list[str], rule: str) -> None:
    changes = {"callback_url": "https://company.com/cb", "callback_events": events}
    assert_breaks(model, changes, "callback_events", rule)


@pytest.mark.parametrize("model", list(BASES))
def test_callback_events_need_a_callback_url(model: type[Any]) -> None:
    assert_breaks(model, {"callback_events": ["sent"]}, "callback_events", "need a callback_url")


@pytest.mark.parametrize("model", list(BASES))
def test_unknown_fields_are_refused(model: type[Any]) -> None:
    assert_breaks(model, {"priority": 1}, "priority", "Extra inputs are not permitted")


# ---- SMS and VK: sender, text, ttl, scheduling ---------------------------------------------------


@pytest.mark.parametrize("model", [RevicomSms, RevicomVk, RevicomFlashCall])
@pytest.mark.parametrize("sender", ["", "   "])
def test_sender_name_must_not_be_blank(model: type[Any], sender: str) -> None:
    assert_breaks(model, {"sender_name": sender}, "sender_name", "must not be empty")


@pytest.mark.parametrize("model", [RevicomSms, RevicomVk])
@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("", "must not be empty"),
        (" \n", "must not be empty"),
        ("\ufeffHello", "byte order mark"),
    ],
)
def test_text_must_be_non_empty_utf8_without_bom(model: type[Any], text: str, rule: str) -> None:
    assert_breaks(model, {"text": text}, "text", rule)


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [
        (RevicomSms, "text", "Hello \ud800"),
        (RevicomVk, "text", "\udc00"),
        (RevicomSms, "sender_name", "SHOP\ud800"),
        (RevicomVk, "sender_name", "\udfff group"),
        (RevicomFlashCall, "sender_name", "\ud800"),
        (RevicomVoiceCode, "text", "Код авторизации от brand\ud800: 1234"),
        (RevicomVoiceCode, "external_message_id", "id-\ud800"),
        (RevicomSms, "destination", "14085553911\ud800"),
    ],
)
def test_a_lone_surrogate_in_free_text_is_refused_with_the_unicode_rule(
    model: type[Any], field: str, value: str
) -> None:
    problem = problem_for(model, {**BASES[model], field: value}, field)

    assert problem.rule == "must be valid Unicode text (no lone surrogates)"
    # Reported as its escape, so the problem can go into a JSON answer and a UTF-8 log.
    assert problem.value == value.encode("utf-8", "backslashreplace").decode("utf-8")


def test_vk_text_is_at_most_2048_characters() -> None:
    assert build(RevicomVk, {**VK, "text": "я" * 2048}).text == "я" * 2048
    assert_breaks(RevicomVk, {"text": "я" * 2049}, "text", "1..2048 characters")


@pytest.mark.parametrize(
    ("model", "low", "high"),
    [(RevicomSms, 60, 86400), (RevicomVk, 60, 86400), (RevicomVoiceCode, 30, 86400)],
)
def test_ttl_range_per_channel(model: type[Any], low: int, high: int) -> None:
    base = BASES[model]
    assert build(model, {**base, "ttl_s": low}).ttl_s == low
    assert build(model, {**base, "ttl_s": high}).ttl_s == high
    assert_breaks(model, {"ttl_s": low - 1}, "ttl_s", f"{low}..{high} seconds")
    assert_breaks(model, {"ttl_s": high + 1}, "ttl_s", f"{low}..{high} seconds")


@pytest.mark.parametrize("ttl", ["600", 600.0, True])
def test_ttl_must_be_an_integer(ttl: object) -> None:
    assert_breaks(RevicomSms, {"ttl_s": ttl}, "ttl_s", "valid integer")


def test_flashcall_has_no_ttl() -> None:
    assert_breaks(RevicomFlashCall, {"ttl_s": 60}, "ttl_s", "Extra inputs")


@pytest.mark.parametrize("model", [RevicomSms, RevicomVk])
@pytest.mark.parametrize("field", ["use_local_time", "short_url"])
def test_flags_must_be_booleans(model: type[Any], field: str) -> None:
    assert_breaks(model, {field: "yes"}, field, "valid boolean")


@pytest.mark.parametrize("model", [RevicomSms, RevicomVk])
@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"hours": [12, 24]}, "hours.1", "0..23"),
        ({"hours": [-1]}, "hours.0", "0..23"),
        ({"hours": [12, 12]}, "hours", "unique"),
        ({"hours": []}, "hours", "at least one"),
        ({"days": [0]}, "days.0", "1 (Monday)..7 (Sunday)"),
        ({"days": [1, 8]}, "days.1", "1 (Monday)..7 (Sunday)"),
        ({"days": [2, 2]}, "days", "unique"),
        ({"days": []}, "days", "at least one"),
    ],
)
def test_hours_and_days_are_unique_values_in_range(
    model: type[Any], changes: dict[str, Any], field: str, rule: str
) -> None:
    assert_breaks(model, changes, field, rule)


@pytest.mark.parametrize("model", [RevicomSms, RevicomVk])
@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("2030-01-01T18:00:00", "'YYYY-MM-DD hh:mm:ss'"),
        ("2030-1-1 18:00:00", "'YYYY-MM-DD hh:mm:ss'"),
        ("\uff12\uff10\uff13\uff10-01-01 18:00:00", "'YYYY-MM-DD hh:mm:ss'"),
        ("2030-02-30 18:00:00", "real date"),
        (datetime(2030, 1, 1, tzinfo=UTC), "without a time zone"),
        (1893456000, "'YYYY-MM-DD hh:mm:ss'"),
    ],
)
def test_local_send_time_format(model: type[Any], value: object, rule: str) -> None:
    assert_breaks(model, {"local_send_time": value}, "local_send_time", rule)


@pytest.mark.parametrize("model", [RevicomSms, RevicomVk])
@pytest.mark.parametrize("offset", [timedelta(hours=-13), timedelta(days=7, hours=1)])
def test_local_send_time_lies_between_12_hours_ago_and_7_days_ahead(
    model: type[Any], offset: timedelta
) -> None:
    value = local(utc_now() + offset)
    assert_breaks(model, {"local_send_time": value}, "local_send_time", "now UTC - 12 h and now UTC + 7 days")


@pytest.mark.parametrize("offset", [timedelta(hours=-11), timedelta(days=6, hours=23)])
def test_local_send_time_inside_the_window_is_accepted(offset: timedelta) -> None:
    assert build(RevicomSms, {**SMS, "local_send_time": local(utc_now() + offset)}).local_send_time


def test_local_send_time_window_is_open_at_both_ends_with_a_pinned_clock() -> None:
    now = datetime(2030, 6, 1, 12, 0, 0)
    data = {**SMS, "channel": "SMS"}
    context = {"now": now}
    for edge in (now - timedelta(hours=12), now + timedelta(days=7)):
        with pytest.raises(InvalidMessage, match="local_send_time"):
            build_revicom_message({**data, "local_send_time": local(edge)}, context=context)
    inside = now + timedelta(days=7) - timedelta(seconds=1)
    assert build_revicom_message({**data, "local_send_time": local(inside)}, context=context)


@pytest.mark.parametrize("model", [RevicomSms, RevicomVk])
def test_local_completion_time_is_not_before_the_send_time(model: type[Any]) -> None:
    send = utc_now() + timedelta(days=1)
    changes = {"local_send_time": local(send), "local_completion_time": local(send - timedelta(seconds=1))}
    assert_breaks(model, changes, "local_completion_time", "between local_send_time")


@pytest.mark.parametrize("model", [RevicomSms, RevicomVk])
def test_local_completion_time_is_at_most_70_days_ahead(model: type[Any]) -> None:
    changes = {"local_completion_time": local(utc_now() + timedelta(days=70, hours=1))}
    assert_breaks(model, changes, "local_completion_time", "now UTC + 70 days")
    assert build(model, {**BASES[model], "local_completion_time": local(utc_now() + timedelta(days=69))})


def test_local_completion_time_without_send_time_is_not_in_the_past() -> None:
    changes = {"local_completion_time": local(utc_now() - timedelta(hours=1))}
    assert_breaks(RevicomSms, changes, "local_completion_time", "or now UTC when unset")


@pytest.mark.parametrize("model", [RevicomVoiceCode, RevicomFlashCall])
@pytest.mark.parametrize("field", ["hours", "days", "local_send_time", "use_local_time", "short_url"])
def test_scheduling_is_only_for_sms_and_vk(model: type[Any], field: str) -> None:
    assert_breaks(model, {field: [1]}, field, "Extra inputs")

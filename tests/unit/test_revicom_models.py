"""Every Revicom rule from the provider pages: a violation is an InvalidMessage naming field, value
and rule; valid input passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dispatcher.errors import InvalidMessage, Problem
from dispatcher.models.common import build
from dispatcher.models.revicom import (
    RevicomFlashCall,
    RevicomSms,
    RevicomVk,
    RevicomVoiceCode,
    build_revicom_message,
)
from dispatcher.models.revicom_fields import voicecode_text

NUMBER = "14085553911"
FMT = "%Y-%m-%d %H:%M:%S"

SMS = {"destination": NUMBER, "sender_name": "SENDER", "text": "Message Text"}
VOICECODE = {"destination": NUMBER, "text": "Код авторизации от revicom: 3 4 5 6"}
FLASHCALL = {"destination": NUMBER, "sender_name": "any sender", "code": "1234"}
VK = {"destination": NUMBER, "sender_name": "group", "text": "Привет"}

BASES: dict[type[Any], dict[str, Any]] = {
    RevicomSms: SMS,
    RevicomVoiceCode: VOICECODE,
    RevicomFlashCall: FLASHCALL,
    RevicomVk: VK,
}


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def local(moment: datetime) -> str:
    return moment.strftime(FMT)


def problem_for(model: type[Any], data: dict[str, Any], field: str) -> Problem:
    with pytest.raises(InvalidMessage) as caught:
        build(model, data)
    matching = [problem for problem in caught.value.problems if problem.field == field]
    assert matching, f"no problem for {field}: {caught.value.problems}"
    return matching[0]


def assert_breaks(model: type[Any], changes: dict[str, Any], field: str, rule: str) -> None:
    """Applying ``changes`` to a valid message breaks ``field`` with a rule mentioning ``rule``."""
    problem = problem_for(model, {**BASES[model], **changes}, field)
    assert rule in problem.rule
    top, _, index = field.partition(".")
    expected = changes[top][int(index)] if index else changes[top]
    assert problem.value == expected


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
        ("ftp://company.com/callback", "http or https"),
        ("company.com/callback", "http or https"),
        ("https://company.com/call back", "RFC 3986"),
        ("https://company.com/путь", "RFC 3986"),
        ("https://company.com/%zz", "RFC 3986"),
        ("https:///callback", "host"),
        ("https://company.com:99999/callback", "port"),
        ("https://company.com:/callback", "host"),
    ],
)
def test_callback_url_must_be_an_http_uri(model: type[Any], url: str, rule: str) -> None:
    assert_breaks(model, {"callback_url": url}, "callback_url", rule)


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
        ("Hello \ud800", "UTF-8"),
    ],
)
def test_text_must_be_non_empty_utf8_without_bom(model: type[Any], text: str, rule: str) -> None:
    assert_breaks(model, {"text": text}, "text", rule)


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


# ---- VOICECODE ------------------------------------------------------------------------------------


def test_voicecode_sender_name_is_always_voicecode() -> None:
    assert build(RevicomVoiceCode, VOICECODE).sender_name == "voicecode"
    assert build(RevicomVoiceCode, {**VOICECODE, "sender_name": "voicecode"}).sender_name == "voicecode"
    assert_breaks(RevicomVoiceCode, {"sender_name": "BRAND"}, "sender_name", "always use the sender name")


@pytest.mark.parametrize("code", ["1234", "1 2 3 4", "1-2-3-4"])
def test_voicecode_accepts_the_three_code_styles(code: str) -> None:
    text = f"Код авторизации от My Brand: {code}"
    assert build(RevicomVoiceCode, {**VOICECODE, "text": text}).text == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Your code: 1234",
        "Код авторизации от revicom: 123",
        "Код авторизации от revicom: 12345",
        "Код авторизации от revicom: 1 2-3 4",
        "Код авторизации от revicom: 1  2 3 4",
        "Код авторизации от revicom: 12ab",
        "Код авторизации от revicom: 1234.",
        "Код авторизации от : 1234",
        "код авторизации от revicom: 1234",
        "Код авторизации от revicom:1234",
        "Код авторизации от revicom: ١٢٣٤",
        "Код авторизации от revicom\n: 1234",
        f"Код авторизации от {'b' * 1000}: 1234",
    ],
)
def test_voicecode_text_must_match_template(text: str) -> None:
    assert_breaks(RevicomVoiceCode, {"text": text}, "text", "Код авторизации от {brand}: {code}")


def test_voicecode_text_is_at_most_1000_characters() -> None:
    fits = f"Код авторизации от {'b' * (1000 - len('Код авторизации от : 1234'))}: 1234"
    assert len(fits) == 1000
    assert build(RevicomVoiceCode, {**VOICECODE, "text": fits}).text == fits
    assert_breaks(RevicomVoiceCode, {"text": fits.replace(": ", "b: ")}, "text", "1..1000 characters")


def test_voicecode_external_message_id_is_1_to_100_characters() -> None:
    assert build(RevicomVoiceCode, {**VOICECODE, "external_message_id": "x" * 100}).external_message_id
    assert_breaks(RevicomVoiceCode, {"external_message_id": "x" * 101}, "external_message_id", "1..100")
    assert_breaks(RevicomVoiceCode, {"external_message_id": ""}, "external_message_id", "1..100")


def test_external_message_id_is_only_for_voicecode() -> None:
    assert_breaks(RevicomSms, {"external_message_id": "id1"}, "external_message_id", "Extra inputs")


@pytest.mark.parametrize(("style", "code"), [("plain", "3456"), ("spaced", "3 4 5 6"), ("dashed", "3-4-5-6")])
def test_voicecode_from_code_fills_the_template(style: Any, code: str) -> None:
    message = RevicomVoiceCode.from_code(
        destination=NUMBER, brand="revicom", code="3456", style=style, ttl_s=60
    )
    assert message.text == f"Код авторизации от revicom: {code}"
    assert message.ttl_s == 60
    assert voicecode_text("revicom", "3456", style) == message.text


@pytest.mark.parametrize("code", ["12", "12a4", ""])
def test_voicecode_from_code_refuses_a_bad_code(code: str) -> None:
    with pytest.raises(InvalidMessage) as caught:
        RevicomVoiceCode.from_code(destination=NUMBER, brand="revicom", code=code)
    assert [problem.field for problem in caught.value.problems] == ["text"]


# ---- FLASHCALL ------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["123", "12345", "12a4", "١٢٣٤", "", " 123"])
def test_flashcall_code_is_four_digits(code: str) -> None:
    assert_breaks(RevicomFlashCall, {"code": code}, "code", "exactly 4 digits")


def test_flashcall_code_must_be_a_string() -> None:
    assert_breaks(RevicomFlashCall, {"code": 1234}, "code", "valid string")


# ---- the union ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "model"),
    [
        ("SMS", RevicomSms),
        ("VOICECODE", RevicomVoiceCode),
        ("FLASHCALL", RevicomFlashCall),
        ("VK", RevicomVk),
    ],
)
def test_build_revicom_message_picks_the_model_by_channel(channel: str, model: type[Any]) -> None:
    assert isinstance(build_revicom_message({**BASES[model], "channel": channel}), model)


def test_build_revicom_message_refuses_an_unknown_channel() -> None:
    with pytest.raises(InvalidMessage, match="WHATSAPP"):
        build_revicom_message({**SMS, "channel": "WHATSAPP"})


def test_build_revicom_message_names_the_field_inside_the_channel() -> None:
    with pytest.raises(InvalidMessage) as caught:
        build_revicom_message({**FLASHCALL, "channel": "FLASHCALL", "code": "12"})
    assert caught.value.problems[0].field == "FLASHCALL.code"
    assert caught.value.problems[0].value == "12"

"""The simulator's own rule checks, as pure functions (no server)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import phonenumbers
import pytest

from dispatcher.numbering import is_valid_e164_digits as is_valid_msisdn
from dispatcher.simulator.bsg_rules import request_errors
from dispatcher.simulator.gsm7 import encoding_and_units, segment_count
from dispatcher.simulator.revicom_rules import MSG, item_problem, request_problem, unknown_field_msg
from dispatcher.simulator.smartswitch import InvalidParameters, parse_recipients
from dispatcher.simulator.tokens import JwtSigner

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def sms(**fields: object) -> dict[str, object]:
    return {
        "channelType": "SMS",
        "senderName": "SENDER",
        "destination": "14085553911",
        "content": "Hi",
        **fields,
    }


def voicecode(text: str, **fields: object) -> dict[str, object]:
    return {
        "channelType": "VOICECODE",
        "senderName": "voicecode",
        "destination": "14085553911",
        "content": {"contentType": "text", "text": text},
        **fields,
    }


def _reference_valid(digits: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse("+" + digits, None))
    except phonenumbers.NumberParseException:
        return False


def test_fast_msisdn_check_agrees_with_phonenumbers_on_typical_numbers() -> None:
    rng = random.Random(7)
    samples = [f"7916{rng.randrange(10**7):07d}" for _ in range(300)]
    samples += [f"1{rng.randrange(200, 999)}{rng.randrange(2 * 10**6, 10**7):07d}" for _ in range(300)]
    samples += [f"447{rng.randrange(10**9):09d}" for _ in range(300)]
    samples += [f"{rng.randrange(1, 999)}{rng.randrange(10**8)}" for _ in range(600)]
    mismatches = [n for n in samples if is_valid_msisdn(n) != _reference_valid(n)]
    # The only tolerated difference: numbers that validate only after a national prefix is stripped.
    assert all(not is_valid_msisdn(n) for n in mismatches)
    assert len(mismatches) < len(samples) // 100


@pytest.mark.parametrize("text", ["+14085553911", "1408555391", "0014085553911", "1408555391a", ""])
def test_msisdn_must_be_valid_international_digits(text: str) -> None:
    assert not is_valid_msisdn(text)


def test_gsm7_extension_characters_take_two_septets_and_unicode_switches_to_ucs2() -> None:
    assert encoding_and_units("a{b") == ("gsm7", 4)
    assert encoding_and_units("Привет") == ("ucs2", 6)
    assert segment_count("x" * 160) == 1
    assert segment_count("x" * 161) == 2
    assert segment_count("я" * 70) == 1
    assert segment_count("я" * 71) == 2


def test_documented_sms_and_voicecode_items_are_valid() -> None:
    assert (
        item_problem(sms(tags=["tag1"], ttl=43200, hours=[12, 13], days=[1, 2], shortUrl=True), NOW) is None
    )
    assert item_problem(voicecode("Код авторизации от revicom: 3 4 5 6"), NOW) is None


@pytest.mark.parametrize("code", ["1234", "1 2 3 4", "1-2-3-4"])
def test_voicecode_accepts_the_three_code_spellings(code: str) -> None:
    assert item_problem(voicecode(f"Код авторизации от Brand: {code}"), NOW) is None


@pytest.mark.parametrize(
    "text",
    [
        "Your code: 1234",
        "Код авторизации от Brand: 12a4",
        "Код авторизации от : 1234",
        "Код авторизации от B: 1_2_3_4",
    ],
)
def test_voicecode_text_must_match_template(text: str) -> None:
    assert item_problem(voicecode(text), NOW) == MSG["content"]


@pytest.mark.parametrize(
    ("item", "msg"),
    [
        (sms(destination="123"), "Invalid msisdn"),
        (sms(content=""), "Invalid content"),
        (sms(content="\ufeffHi"), "Invalid content"),
        (sms(channelType="FAX"), MSG["channelType"]),
        (sms(senderName=""), MSG["senderName"]),
        ({**voicecode("Код авторизации от B: 1234"), "senderName": "other"}, MSG["senderName"]),
        (sms(tags=["ok", "not ok"]), MSG["tags"]),
        (sms(tags=["ünï"]), MSG["tags"]),
        (sms(ttl=59), MSG["ttl"]),
        (sms(ttl=86401), MSG["ttl"]),
        (voicecode("Код авторизации от B: 1234", ttl=29), MSG["ttl"]),
        (sms(hours=[1, 1]), MSG["hours"]),
        (sms(hours=[24]), MSG["hours"]),
        (sms(days=[0]), MSG["days"]),
        (sms(useLocalTime="yes"), MSG["useLocalTime"]),
        (sms(shortUrl=1), MSG["shortUrl"]),
        (sms(callbackUrl="ftp://x/y"), MSG["callbackUrl"]),
        (sms(callbackUrl="https://bad host/"), MSG["callbackUrl"]),
        (sms(callbackEvents=["delivered", "bounced"]), MSG["callbackEvents"]),
        (voicecode("Код авторизации от B: 1234", externalMessageId="x" * 101), MSG["externalMessageId"]),
        (sms(externalMessageId="x"), unknown_field_msg("externalMessageId")),
        (sms(colour="red"), unknown_field_msg("colour")),
        (
            {"channelType": "FLASHCALL", "senderName": "", "destination": "14085553911", "content": "123"},
            MSG["content"],
        ),
        (
            {
                "channelType": "FLASHCALL",
                "senderName": "x",
                "destination": "14085553911",
                "content": "1234",
                "ttl": 60,
            },
            unknown_field_msg("ttl"),
        ),
        (
            {"channelType": "VK", "senderName": "x", "destination": "14085553911", "content": "x" * 2049},
            MSG["content"],
        ),
    ],
)
def test_revicom_rule_violations_name_the_field(item: dict[str, object], msg: str) -> None:
    assert item_problem(item, NOW) == msg


def test_local_send_time_must_be_within_minus_12_hours_and_plus_7_days() -> None:
    fmt = "%Y-%m-%d %H:%M:%S"
    assert item_problem(sms(localSendTime=(NOW + timedelta(days=6)).strftime(fmt)), NOW) is None
    assert (
        item_problem(sms(localSendTime=(NOW + timedelta(days=8)).strftime(fmt)), NOW) == MSG["localSendTime"]
    )
    assert (
        item_problem(sms(localSendTime=(NOW - timedelta(hours=13)).strftime(fmt)), NOW)
        == MSG["localSendTime"]
    )
    assert item_problem(sms(localSendTime="2025-06-01T12:00:00"), NOW) == MSG["localSendTime"]


def test_local_completion_time_must_follow_send_time_and_end_within_70_days() -> None:
    fmt = "%Y-%m-%d %H:%M:%S"
    send = (NOW + timedelta(days=1)).strftime(fmt)
    before = NOW.strftime(fmt)
    assert (
        item_problem(sms(localSendTime=send, localCompletionTime=before), NOW) == MSG["localCompletionTime"]
    )
    too_late = (NOW + timedelta(days=71)).strftime(fmt)
    assert item_problem(sms(localCompletionTime=too_late), NOW) == MSG["localCompletionTime"]


def test_revicom_request_is_an_array_of_1_to_1000_items() -> None:
    assert request_problem({}, NOW) == MSG["body"]
    assert request_problem([], NOW) == MSG["count"]
    assert request_problem([sms()] * 1001, NOW) == MSG["count"]
    assert request_problem([sms()] * 1000, NOW) is None


def rcs(**fields: object) -> dict[str, object]:
    return {
        "phone": {"number": "380661231231", "reference_id": "ref1"},
        "sender": "agent",
        "options": {"text": "Hi"},
        **fields,
    }


def test_valid_rcs_bodies_have_no_errors() -> None:
    assert request_errors(rcs()) == {}
    card = {
        "text": "t",
        "media": {"url": "https://d.com/i.png"},
        "suggestions": [{"text": "Go", "url": "https://d.com/"}],
    }
    assert request_errors(rcs(options={"cards": [card, card]}, validity_seconds=30)) == {}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (rcs(phone={"number": "12345678"}), "phone.number"),
        (rcs(phone={"number": "3806612312311234"}), "phone.number"),
        (rcs(phone={"number": "380661231231", "reference_id": "a-b"}), "phone.reference_id"),
        (rcs(phone={"number": "380661231231", "reference_id": "a" * 33}), "phone.reference_id"),
        (rcs(sender="s" * 41), "sender"),
        (rcs(options={"text": "x" * 161}), "options.text"),
        (rcs(options={"text": "x", "cards": [{"text": "y"}]}), "options"),
        (rcs(options={"cards": []}), "options.cards"),
        (rcs(options={"cards": [{"text": "y"}] * 6}), "options.cards"),
        (rcs(options={"cards": [{"text": "y" * 1001}]}), "options.cards.0.text"),
        (
            rcs(options={"cards": [{"media": {"url": "https://d.com/" + "x" * 990}}]}),
            "options.cards.0.media.url",
        ),
        (
            rcs(
                options={"cards": [{"text": "y", "suggestions": [{"text": "a", "url": "https://d.com"}] * 3}]}
            ),
            "options.cards.0.suggestions",
        ),
        (
            rcs(
                options={
                    "cards": [{"text": "y", "suggestions": [{"text": "a" * 26, "url": "https://d.com"}]}]
                }
            ),
            "options.cards.0.suggestions.0.text",
        ),
        (
            rcs(
                options={
                    "cards": [
                        {
                            "text": "y",
                            "suggestions": [{"text": "a", "url": "https://d.com", "postback_data": "p" * 26}],
                        }
                    ]
                }
            ),
            "options.cards.0.suggestions.0.postback_data",
        ),
        (
            rcs(
                options={
                    "cards": [
                        {"text": "y", "suggestions": [{"type": "call", "text": "a", "url": "https://d.com"}]}
                    ]
                }
            ),
            "options.cards.0.suggestions.0",
        ),
        (rcs(validity_seconds=29), "validity_seconds"),
        (rcs(validity=73), "validity"),
        (rcs(validity=1, validity_seconds=60), "validity"),
        (
            rcs(alternative_channel={"sms": {"text": "x" * 766, "sender": "Shop"}}),
            "alternative_channel.sms.text",
        ),
        (
            rcs(alternative_channel={"sms": {"text": "я" * 356, "sender": "Shop"}}),
            "alternative_channel.sms.text",
        ),
        (
            rcs(alternative_channel={"sms": {"text": "x", "sender": "TwelveChars1"}}),
            "alternative_channel.sms.sender",
        ),
        (
            rcs(alternative_channel={"sms": {"text": "x", "sender": "1234567890123456"}}),
            "alternative_channel.sms.sender",
        ),
        (rcs(callback_url="https://d.com/" + "x" * 90), "callback_url"),
        (rcs(add_to_contact_book="true"), "add_to_contact_book"),
        (rcs(check_stop_list=1), "check_stop_list"),
        (rcs(tariff_code="1"), "tariff_code"),
        (rcs(unknown=1), "unknown"),
    ],
)
def test_rcs_rule_violations_are_reported_by_field(body: dict[str, object], field: str) -> None:
    assert field in request_errors(body)


def test_rcs_alternative_sms_limits_are_765_gsm7_and_355_ucs2() -> None:
    assert (
        request_errors(rcs(alternative_channel={"sms": {"text": "x" * 765, "sender": "123456789012345"}}))
        == {}
    )
    assert request_errors(rcs(alternative_channel={"sms": {"text": "я" * 355, "sender": "Shop"}})) == {}


def test_smartswitch_groups_start_at_destination_number() -> None:
    recipients = parse_recipients(
        [
            ("_login", "l"),
            ("destination_number", "12123388100"),
            ("body", "a"),
            ("destination_number", "12123388101"),
        ]
    )
    assert [r.fields for r in recipients] == [
        {"destination_number": "12123388100", "body": "a"},
        {"destination_number": "12123388101"},
    ]


@pytest.mark.parametrize(
    "pairs",
    [
        [("body", "a"), ("destination_number", "12123388100")],
        [("destination_number", "12123388100"), ("body", "a"), ("body", "b")],
        [("destination_number", "12123388100"), ("colour", "red")],
        [("destination_number", "12123388100"), ("require_dlr", "yes")],
        [("destination_number", "1212")],
        [("_login", "l")],
    ],
)
def test_smartswitch_refuses_misplaced_or_invalid_parameters(pairs: list[tuple[str, str]]) -> None:
    with pytest.raises(InvalidParameters):
        parse_recipients(pairs)


def test_jwt_is_valid_until_it_expires_and_only_with_our_signature() -> None:
    signer = JwtSigner()
    token = signer.issue("acct", 60)
    assert signer.subject(token) == "acct"
    assert JwtSigner().subject(token) is None
    assert signer.subject(token[:-2] + "xx") is None
    expired = signer.issue("acct", -10)
    assert signer.subject(expired) is None

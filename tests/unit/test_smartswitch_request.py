"""Smartswitch requests: the documented examples parameter for parameter, and URL-bound packing."""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from dispatcher.errors import InvalidMessage
from dispatcher.models.common import build
from dispatcher.models.smartswitch import SmartswitchSms
from dispatcher.providers.smartswitch import MESSAGE_PATH, pack, query_params
from dispatcher.providers.smartswitch.request import fixed_url_bytes, url_bytes
from tests.provider_examples import SMARTSWITCH_ONE_RECIPIENT_URL, SMARTSWITCH_TWO_RECIPIENTS_URL

ENDPOINT = "https://your.server.name" + MESSAGE_PATH


def sms(**fields: Any) -> SmartswitchSms:
    return build(SmartswitchSms, {"destination_number": "12123388100", "body": "test", **fields})


def prepared_url(messages: list[SmartswitchSms], *, login: str = "LOGIN", password: str = "PASSWORD") -> str:
    """The URL exactly as ``requests`` (hence the adapter) would send it; no network involved."""
    params = query_params(messages, login=login, password=password)
    url = requests.Request("POST", ENDPOINT, params=params).prepare().url
    assert url is not None
    return url


def test_smartswitch_one_recipient_example_is_reproduced_exactly() -> None:
    assert prepared_url([sms(require_dlr=True)]) == SMARTSWITCH_ONE_RECIPIENT_URL


def test_smartswitch_two_recipient_example_is_reproduced_exactly() -> None:
    messages = [sms(), sms(destination_number="12123388101", body="test1")]
    assert prepared_url(messages) == SMARTSWITCH_TWO_RECIPIENTS_URL
    assert query_params(messages, login="LOGIN", password="PASSWORD") == parse_qsl(
        urlsplit(SMARTSWITCH_TWO_RECIPIENTS_URL).query
    )


def test_smartswitch_recipient_group_has_a_fixed_order_starting_with_destination() -> None:
    message = sms(source_name="Shop", require_dlr=False, request_id="m-1")
    ping = build(
        SmartswitchSms,
        {
            "destination_number": "12123388101",
            "stealth_ping": True,
            "source_number": "4412",
            "request_id": "m-2",
        },
    )
    assert query_params([message, ping], login="l", password="p") == [
        ("_login", "l"),
        ("_password", "p"),
        ("destination_number", "12123388100"),
        ("body", "test"),
        ("source_name", "Shop"),
        ("require_dlr", "0"),
        ("request_id", "m-1"),
        ("destination_number", "12123388101"),
        ("source_number", "4412"),
        ("require_dlr", "1"),
        ("stealth_ping", "1"),
        ("request_id", "m-2"),
    ]


def test_smartswitch_body_is_percent_encoded_in_the_query() -> None:
    url = prepared_url([sms(body="a&b=c Привет+")])
    assert "body=a%26b%3Dc+%D0%9F%D1%80%D0%B8%D0%B2%D0%B5%D1%82%2B" in url
    assert dict(parse_qsl(urlsplit(url).query))["body"] == "a&b=c Привет+"


def test_smartswitch_url_size_is_exactly_what_requests_sends() -> None:
    messages = [sms(body="ünïcödé & more " * 5, request_id=f"id-{n}") for n in range(7)]
    fixed = fixed_url_bytes(ENDPOINT, login="LOGIN", password="p@ss w&rd")
    url = prepared_url(messages, password="p@ss w&rd")
    assert url_bytes(messages, fixed_bytes=fixed) == len(url.encode())


def test_smartswitch_pack_keeps_every_request_under_the_bound_and_keeps_order() -> None:
    messages = [sms(body=f"message number {n} " * 10, request_id=f"id-{n}") for n in range(200)]
    fixed = fixed_url_bytes(ENDPOINT, login="LOGIN", password="PASSWORD")
    requests_ = pack(messages, max_url_bytes=2048, fixed_bytes=fixed)
    assert len(requests_) > 1
    assert [message for chunk in requests_ for message in chunk] == messages
    for chunk in requests_:
        assert len(prepared_url(chunk).encode()) <= 2048
    # Greedy: adding the next message to any full request would have broken the bound.
    for chunk, following in itertools.pairwise(requests_):
        assert url_bytes([*chunk, following[0]], fixed_bytes=fixed) > 2048


def test_smartswitch_pack_puts_small_batches_in_one_request() -> None:
    messages = [sms(request_id=str(n)) for n in range(5)]
    assert pack(messages, max_url_bytes=8192, fixed_bytes=100) == [messages]


def test_smartswitch_pack_of_nothing_is_no_requests() -> None:
    assert pack([], max_url_bytes=8192, fixed_bytes=100) == []


def test_smartswitch_message_too_long_for_any_url_is_refused_naming_the_body() -> None:
    fine = sms()
    huge = sms(body="x" * 9000)
    with pytest.raises(InvalidMessage) as error:
        pack([fine, huge], max_url_bytes=8192, fixed_bytes=100)
    (problem,) = error.value.problems
    assert problem.field == "body"
    assert "max_url_bytes=8192" in problem.rule
    assert "message #1" in problem.rule
    assert "9000 characters" in str(problem.value)


def test_smartswitch_message_that_fits_exactly_is_accepted() -> None:
    message = sms()
    fixed = 100
    exact = url_bytes([message], fixed_bytes=fixed)
    assert pack([message], max_url_bytes=exact, fixed_bytes=fixed) == [[message]]
    with pytest.raises(InvalidMessage):
        pack([message], max_url_bytes=exact - 1, fixed_bytes=fixed)

"""Revicom callback bodies: each event normalised, and any malformed body an InvalidCallback."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatcher.errors import InvalidCallback
from dispatcher.providers.outcomes import DeliveryStatus
from dispatcher.providers.revicom_callbacks import STATUS_TABLE, parse_callback

DOCUMENTED = (
    b'[{"message_uuid":"063464ec-a34f-4558-90c5-984395000003","channel_type":"SMS",'
    b'"cascade_message_uuid":"063464ec-a34f-4558-90c5-984395000002","cascade_step":2,'
    b'"callback_event":"delivered","status":"undelivered","status_time":"2020-10-16T18:51:13Z",'
    b'"error_code":6969}]'
)


def event(**changes: Any) -> dict[str, Any]:
    base = {
        "message_uuid": "u1",
        "channel_type": "SMS",
        "callback_event": "delivered",
        "status": "delivered",
        "status_time": "2020-10-16T18:51:13Z",
    }
    return {**base, **changes}


def body(*events: Any) -> bytes:
    return orjson.dumps(list(events))


def test_documented_example_is_parsed() -> None:
    (report,) = parse_callback(DOCUMENTED)
    assert report.provider == "revicom"
    assert report.provider_message_id == "063464ec-a34f-4558-90c5-984395000003"
    assert report.kind == "status"
    assert report.status is DeliveryStatus.UNDELIVERED
    assert report.provider_status == "undelivered"
    assert report.occurred_at == datetime(2020, 10, 16, 18, 51, 13, tzinfo=UTC)
    assert report.error_code == "6969"


@pytest.mark.parametrize(
    ("status", "normalised"),
    [
        ("sent", DeliveryStatus.SENT),
        ("delivered", DeliveryStatus.DELIVERED),
        ("undelivered", DeliveryStatus.UNDELIVERED),
        ("unsent", DeliveryStatus.FAILED),
        ("read", DeliveryStatus.READ),
        ("unread", DeliveryStatus.DELIVERED),
    ],
)
def test_every_documented_status_is_normalised(status: str, normalised: DeliveryStatus) -> None:
    (report,) = parse_callback(body(event(status=status)))
    assert report.status is normalised
    assert STATUS_TABLE[status] is normalised


def test_unread_means_delivered_not_failed() -> None:
    (report,) = parse_callback(body(event(callback_event="read", status="unread")))
    assert report.status is DeliveryStatus.DELIVERED


@pytest.mark.parametrize("kind", ["price", "click"])
def test_price_and_click_events_carry_no_status(kind: str) -> None:
    (report,) = parse_callback(body(event(callback_event=kind, status="delivered")))
    assert report.kind == kind
    assert report.status is None
    assert report.provider_status == "delivered"


def test_several_events_are_returned_in_order() -> None:
    reports = parse_callback(body(event(message_uuid="a", status="sent"), event(message_uuid="b")))
    assert [(r.provider_message_id, r.status) for r in reports] == [
        ("a", DeliveryStatus.SENT),
        ("b", DeliveryStatus.DELIVERED),
    ]


def test_empty_array_has_no_events() -> None:
    assert parse_callback(b"[]") == []


def test_optional_fields_may_be_null_or_absent() -> None:
    (report,) = parse_callback(body(event(error_code=None, cascade_step=None, cascade_message_uuid=None)))
    assert report.error_code is None


def test_time_with_an_offset_is_kept_as_an_aware_time() -> None:
    (report,) = parse_callback(body(event(status_time="2020-10-16T21:51:13+03:00")))
    assert report.occurred_at == datetime(2020, 10, 16, 18, 51, 13, tzinfo=UTC)


def invalid(raw: bytes) -> InvalidCallback:
    with pytest.raises(InvalidCallback) as caught:
        parse_callback(raw)
    return caught.value


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        (b"", "must be JSON"),
        (b"not json", "must be JSON"),
        (b"\xff\xfe[]", "must be JSON"),
        (b"[" * 5000, "must be JSON"),
        (b'{"message_uuid": "u1"}', "JSON array"),
        (b'"text"', "JSON array"),
        (b"null", "JSON array"),
        (b"[1]", "JSON object"),
        (b"[null]", "JSON object"),
        (b"[[]]", "JSON object"),
    ],
)
def test_garbage_bodies_are_invalid_callbacks(raw: bytes, rule: str) -> None:
    error = invalid(raw)
    assert any(rule in problem.rule for problem in error.problems)


@pytest.mark.parametrize("field", ["message_uuid", "channel_type", "callback_event", "status", "status_time"])
def test_each_required_field_must_be_present(field: str) -> None:
    data = event()
    del data[field]
    (problem,) = invalid(body(data)).problems
    assert problem.field == f"[0].{field}"
    assert problem.value is None
    assert "required" in problem.rule


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"message_uuid": 17}, "[0].message_uuid", "non-empty string"),
        ({"message_uuid": ""}, "[0].message_uuid", "non-empty string"),
        ({"channel_type": ["SMS"]}, "[0].channel_type", "non-empty string"),
        ({"status": None}, "[0].status", "non-empty string"),
        ({"status": "lost"}, "[0].status", "must be one of sent, delivered"),
        ({"callback_event": "opened"}, "[0].callback_event", "must be one of"),
        ({"status_time": "yesterday"}, "[0].status_time", "ISO 8601"),
        ({"status_time": "2020-10-16T18:51:13"}, "[0].status_time", "with a zone"),
        ({"status_time": "2020-13-16T18:51:13Z"}, "[0].status_time", "ISO 8601"),
        ({"status_time": 1602874273}, "[0].status_time", "non-empty string"),
        ({"error_code": "6969"}, "[0].error_code", "integer"),
        ({"error_code": True}, "[0].error_code", "integer"),
        ({"cascade_step": 0}, "[0].cascade_step", ">= 1"),
        ({"cascade_step": 1.5}, "[0].cascade_step", "integer"),
        ({"cascade_message_uuid": 5}, "[0].cascade_message_uuid", "non-empty string"),
    ],
)
def test_wrong_field_values_are_named_with_value_and_rule(
    changes: dict[str, Any], field: str, rule: str
) -> None:
    problems = invalid(body(event(**changes))).problems
    (problem,) = [p for p in problems if p.field == field]
    assert problem.value == next(iter(changes.values()))
    assert rule in problem.rule


def test_one_bad_event_invalidates_the_whole_body_and_names_its_index() -> None:
    error = invalid(body(event(), event(status="lost")))
    assert [problem.field for problem in error.problems] == ["[1].status"]


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=20,
)
EVENT_LIKE = st.fixed_dictionaries(
    {},
    optional={
        name: JSON_VALUES | st.sampled_from(["sent", "delivered", "read", "unread", "2020-10-16T18:51:13Z"])
        for name in (
            "message_uuid",
            "channel_type",
            "callback_event",
            "status",
            "status_time",
            "error_code",
            "cascade_step",
            "cascade_message_uuid",
        )
    },
)


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=200) | JSON_VALUES.map(orjson.dumps) | st.lists(EVENT_LIKE).map(orjson.dumps))
def test_any_body_gives_reports_or_invalid_callback_and_nothing_else(raw: bytes) -> None:
    try:
        reports = parse_callback(raw)
    except InvalidCallback as error:
        problems = error.problems
    else:
        problems = ()
        assert all(report.provider == "revicom" for report in reports)
    assert all(problem.field and problem.rule for problem in problems)

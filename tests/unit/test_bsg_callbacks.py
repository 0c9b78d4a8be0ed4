"""BSG status and click callbacks: documented bodies parse, anything else is ``InvalidCallback``."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatcher.errors import InvalidCallback
from dispatcher.providers.bsg_callbacks import STATUS_TABLE, parse_callback
from dispatcher.providers.outcomes import DeliveryReport, DeliveryStatus

STATUS = {
    "error": 0,
    "errorDescription": "No errors",
    "id": "3272625618",
    "msisdn": "380661231231",
    "reference": "f2d3ab",
    "time_in": "2025-04-14 10:56:09",
    "time_sent": "2025-04-14 10:56:10",
    "time_dr": "2025-04-14 10:56:13",
    "status": "delivered",
    "price": "0.10",
    "currency": "EUR",
}
CLICK = {
    "id": "3272625618",
    "reference": "f2d3ab",
    "msisdn": "380661231231",
    "text": "Go to site",
    "postback": "promo1",
    "time_click": "2025-04-14 11:00:00",
}


def _body(document: Any) -> bytes:
    return orjson.dumps(document)


def test_bsg_documented_status_callback_becomes_a_delivery_report() -> None:
    report = parse_callback(_body(STATUS))

    assert report.provider == "bsg"
    assert report.kind == "status"
    assert report.provider_message_id == "3272625618"
    assert report.status is DeliveryStatus.DELIVERED
    assert report.provider_status == "delivered"
    assert report.reference == "f2d3ab"
    assert report.occurred_at == datetime(2025, 4, 14, 10, 56, 13, tzinfo=UTC)
    assert report.error_code is None


def test_bsg_status_callback_with_null_times_uses_time_in_and_keeps_error_code() -> None:
    report = parse_callback(
        _body({**STATUS, "time_sent": None, "time_dr": None, "status": "failed", "error": 7})
    )

    assert report.occurred_at == datetime(2025, 4, 14, 10, 56, 9, tzinfo=UTC)
    assert report.status is DeliveryStatus.FAILED
    assert report.error_code == "7"


def test_bsg_numeric_id_is_accepted_as_the_openapi_spec_sends_it() -> None:
    assert parse_callback(_body({**STATUS, "id": 3272625618})).provider_message_id == "3272625618"


@pytest.mark.parametrize(
    ("provider_status", "expected"),
    [
        ("scheduled", None),
        ("moderation", None),
        ("accepted", None),
        ("sending", None),
        ("sent", DeliveryStatus.SENT),
        ("delivered", DeliveryStatus.DELIVERED),
        ("read", DeliveryStatus.READ),
        ("expired", DeliveryStatus.EXPIRED),
        ("failed", DeliveryStatus.FAILED),
        ("undelivered", DeliveryStatus.UNDELIVERED),
        ("unknown", DeliveryStatus.UNKNOWN),
        ("not_viber_user", DeliveryStatus.NOT_SERVICE_USER),
        ("not_service_user", DeliveryStatus.NOT_SERVICE_USER),
    ],
)
def test_bsg_every_documented_status_maps_to_our_state(
    provider_status: str, expected: DeliveryStatus | None
) -> None:
    report = parse_callback(_body({**STATUS, "status": provider_status}))

    assert report.status is expected
    assert report.provider_status == provider_status


def test_bsg_status_table_covers_exactly_the_documented_statuses() -> None:
    documented = (
        "scheduled moderation accepted sending sent delivered expired failed undelivered unknown read"
    )
    assert set(STATUS_TABLE) == {*documented.split(), "not_viber_user", "not_service_user"}


def test_bsg_click_callback_becomes_a_click_report() -> None:
    report = parse_callback(_body(CLICK))

    assert report.kind == "click"
    assert report.status is None
    assert report.reference == "f2d3ab"
    assert report.provider_message_id == "3272625618"
    assert report.occurred_at == datetime(2025, 4, 14, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("document", "field", "rule"),
    [
        ({**STATUS, "status": "lost"}, "status", "one of BSG's statuses"),
        ({**STATUS, "time_in": "14.04.2025 10:56"}, "time_in", "Y-m-d H:i:s"),
        ({**STATUS, "time_dr": "2025-02-30 10:00:00"}, "time_dr", "Y-m-d H:i:s"),
        ({**STATUS, "id": "abc"}, "id", "positive integer or a string of digits"),
        ({**STATUS, "id": 0}, "id", "positive integer"),
        ({**STATUS, "msisdn": "+380661231231"}, "msisdn", "9..15 digits"),
        ({**STATUS, "error": "0"}, "error", "integer"),
        ({k: v for k, v in STATUS.items() if k != "id"}, "id", "Field required"),
        ({**CLICK, "time_click": None}, "time_click", "Y-m-d H:i:s"),
        ({"id": "1"}, "(body)", "status object"),
        ([STATUS], "(body)", "JSON object"),
    ],
)
def test_bsg_malformed_callback_is_refused_naming_field_and_rule(
    document: Any, field: str, rule: str
) -> None:
    with pytest.raises(InvalidCallback) as caught:
        parse_callback(_body(document))

    assert any(problem.field == field and rule in problem.rule for problem in caught.value.problems), str(
        caught.value
    )


@pytest.mark.parametrize("body", [b"", b"\xff\xfe", b"{", b"null", b"42", b'"delivered"', b"[" * 10_000])
def test_bsg_garbage_body_is_an_invalid_callback(body: bytes) -> None:
    with pytest.raises(InvalidCallback):
        parse_callback(body)


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
)
documented_values = st.sampled_from([*STATUS.values(), *CLICK.values()])


@given(
    st.dictionaries(
        st.sampled_from([*STATUS, *CLICK, "other"]),
        json_scalars | documented_values | st.lists(json_scalars, max_size=3),
        max_size=12,
    )
)
def test_bsg_any_json_object_parses_or_raises_invalid_callback(document: dict[str, Any]) -> None:
    with contextlib.suppress(InvalidCallback):
        assert isinstance(parse_callback(_body(document)), DeliveryReport)


@given(st.binary(max_size=200))
def test_bsg_any_bytes_parse_or_raise_invalid_callback(body: bytes) -> None:
    with contextlib.suppress(InvalidCallback):
        assert isinstance(parse_callback(body), DeliveryReport)

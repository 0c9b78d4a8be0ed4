from __future__ import annotations

from dispatcher.providers.base import parse_retry_after


def test_delta_seconds() -> None:
    assert parse_retry_after("2") == 2.0


def test_http_date_is_relative_to_now() -> None:
    # Wed, 21 Oct 2015 07:28:00 GMT = 1445412480
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0


def test_absent_or_garbage_gives_none() -> None:
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None

"""`build()` reports every problem as field, value and rule, and never leaks URL credentials."""

from __future__ import annotations

import pytest

from dispatcher.errors import InvalidMessage
from dispatcher.models.common import build
from dispatcher.models.revicom import RevicomSms


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(InvalidMessage) as caught:
        build(RevicomSms, {"destination": "123", "sender_name": "S", "text": "hi", "ttl_s": 5})

    fields = {problem.field for problem in caught.value.problems}
    assert fields == {"destination", "ttl_s"}
    ttl = next(problem for problem in caught.value.problems if problem.field == "ttl_s")
    assert ttl.value == 5
    assert "60" in ttl.rule


def test_callback_url_credentials_never_reach_the_error_text() -> None:
    with pytest.raises(InvalidMessage) as caught:
        build(
            RevicomSms,
            {
                "destination": "+14085553911",
                "sender_name": "S",
                "text": "hi",
                "callback_url": "ftp://login:s3cr3tpass@example.com/cb",
            },
        )

    assert "s3cr3tpass" not in str(caught.value)
    assert "ftp://***@example.com/cb" in str(caught.value)

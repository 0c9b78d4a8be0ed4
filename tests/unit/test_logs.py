"""JSON log lines: ids carried, numbers masked, credentials never written."""

from __future__ import annotations

import json
import logging
import sys

from dispatcher.logs import REDACTED, JsonFormatter, scrub


def _line(
    msg: str, *args: object, extra: dict[str, object] | None = None, exc: bool = False
) -> dict[str, object]:
    exc_info = None
    if exc:
        try:
            raise RuntimeError("post to +447700900123 failed")
        except RuntimeError:
            exc_info = sys.exc_info()
    record = logging.LogRecord("dispatcher.test", logging.WARNING, __file__, 1, msg, args, exc_info)
    for name, value in (extra or {}).items():
        setattr(record, name, value)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    return json.loads(line)  # type: ignore[no-any-return]


def test_ids_from_extras_and_number_in_text_masked() -> None:
    entry = _line(
        "sent to %s",
        "+447700900123",
        extra={"message_id": "01J9ZK3M4N", "batch_id": "b-77", "campaign_id": "12345678901", "attempt": 2},
    )
    assert entry["msg"] == "sent to 4477******23"
    assert entry["message_id"] == "01J9ZK3M4N"
    assert entry["batch_id"] == "b-77"
    # An id made of digits is a search handle, not a phone number: it stays whole.
    assert entry["campaign_id"] == "12345678901"
    assert entry["attempt"] == 2
    assert entry["level"] == "warning"
    assert entry["logger"] == "dispatcher.test"


def test_numbers_in_extras_and_tracebacks_masked() -> None:
    entry = _line("failed", extra={"to": "79161234567"}, exc=True)
    assert entry["to"] == "7916*****67"
    assert "447700900123" not in str(entry["exc"])
    assert "RuntimeError" in str(entry["exc"])


def test_credentials_redacted_in_text_and_extras() -> None:
    entry = _line(
        "request Authorization: Basic a2V5OnB3 api_key=live_abc123 password: hunter2",
        extra={"smartswitch_password": "hunter2", "token": "t0k3n"},
    )
    text = json.dumps(entry)
    for secret in ("a2V5OnB3", "live_abc123", "hunter2", "t0k3n"):
        assert secret not in text
    assert entry["token"] == REDACTED


def test_short_numbers_and_ids_inside_words_left_alone() -> None:
    assert scrub("lane revicom:bulk depth 1234 id msg-123456789012") == (
        "lane revicom:bulk depth 1234 id msg-123456789012"
    )

"""Smartswitch credentials travel in the URL: they must never reach an error message or a log."""

from __future__ import annotations

import logging

import pytest

from dispatcher.errors import ConnectFailed
from dispatcher.providers.smartswitch.redaction import (
    REDACTED,
    URLLIB3_POOL_LOGGER,
    install_log_filter,
    scrub,
    scrubbed,
)

PASSWORD = "s3cr&t pass"
URL = "/smartswitch/api/message?_login=acme&_password=s3cr%26t+pass&destination_number=1"


def test_smartswitch_scrub_hides_credential_parameters_in_any_url() -> None:
    cleaned = scrub(f"failed: {URL}")
    assert "acme" not in cleaned
    assert "s3cr" not in cleaned
    assert f"_password={REDACTED}&destination_number=1" in cleaned


def test_smartswitch_scrub_hides_raw_and_encoded_secrets_anywhere() -> None:
    cleaned = scrub(f"said {PASSWORD!r} and s3cr%26t+pass", [PASSWORD, ""])
    assert "s3cr" not in cleaned
    assert cleaned.count(REDACTED) == 2


def test_smartswitch_scrubbed_error_loses_secret_text_and_chained_causes() -> None:
    try:
        try:
            raise OSError(f"Max retries exceeded with url: {URL}")
        except OSError:
            raise ConnectFailed(f"cannot connect to {URL}", provider="smartswitch")  # noqa: B904
    except ConnectFailed as error:
        cleaned = scrubbed(error, [PASSWORD])
    assert cleaned.__context__ is None
    assert cleaned.__cause__ is None
    assert "s3cr" not in str(cleaned)
    assert "s3cr" not in repr(cleaned)
    assert str(cleaned).startswith("smartswitch: cannot connect")


def test_smartswitch_urllib3_request_lines_are_logged_without_credentials(
    caplog: pytest.LogCaptureFixture,
) -> None:
    install_log_filter()
    install_log_filter()  # idempotent
    logger = logging.getLogger(URLLIB3_POOL_LOGGER)
    assert sum(type(f).__name__ == "CredentialFilter" for f in logger.filters) == 1
    with caplog.at_level(logging.DEBUG, logger=URLLIB3_POOL_LOGGER):
        logger.debug('%s://%s:%s "%s %s %s" %s %s', "http", "127.0.0.1", 80, "POST", URL, "HTTP/1.1", 200, 0)
    assert "s3cr" not in caplog.text
    assert "acme" not in caplog.text
    assert f"_password={REDACTED}" in caplog.text

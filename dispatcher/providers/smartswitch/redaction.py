"""Keeping Smartswitch credentials out of messages and logs.

Smartswitch takes ``_login`` and ``_password`` in the query string, so the request URL is a secret.
``requests`` puts the URL in its exception texts, and urllib3 logs it at DEBUG level; both are
scrubbed here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import quote_plus

from dispatcher.errors import ProviderError

#: A credential parameter in a query string, up to the next separator.
_CREDENTIAL_PARAM = re.compile(r"([?&](?:_login|_password)=)[^&\s\"'#]*")
REDACTED = "***"

#: The logger that writes request lines (``"POST /api/message?_login=...`` at DEBUG).
URLLIB3_POOL_LOGGER = "urllib3.connectionpool"


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with credential parameters and every form of the given secrets replaced."""
    text = _CREDENTIAL_PARAM.sub(rf"\g<1>{REDACTED}", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED).replace(quote_plus(secret), REDACTED)
    return text


def scrubbed(error: ProviderError, secrets: Iterable[str]) -> ProviderError:
    """``error`` with its text scrubbed and its chained exceptions (which may quote the URL) cut off."""
    kept = tuple(secrets)
    error.args = tuple(scrub(arg, kept) if isinstance(arg, str) else arg for arg in error.args)
    error.__cause__ = None
    error.__context__ = None
    error.__suppress_context__ = True
    return error


class CredentialFilter(logging.Filter):
    """Rewrites log records so that no query-string credential reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_log_filter() -> None:
    """Attach ``CredentialFilter`` to urllib3's request logger, once per process."""
    logger = logging.getLogger(URLLIB3_POOL_LOGGER)
    if not any(isinstance(existing, CredentialFilter) for existing in logger.filters):
        logger.addFilter(CredentialFilter())

"""Smartswitch SMS: one recipient of ``POST /api/message`` (Smartswitch's "HTTP API message" page).

The provider page lists the parameters but few limits. Where it is silent we take the strict reading;
each such choice is one named constant or validator below:

* ``SOURCE_NAME_PATTERN``: an alphanumeric sender is 1..11 ASCII letters/digits with at least one
  letter (GSM's alphanumeric originator limit; an all-digit sender is a number -> ``source_number``).
* ``SOURCE_NUMBER_PATTERN``: a sender number is 1..15 digits (E.164 length).
* ``_one_sender``: at most one of ``source_name`` and ``source_number``.
* ``_body_matches_stealth_ping``: a visible message needs a visible body; a stealth ping (silent SMS)
  carries none, because the recipient never sees it and a text would be billed for nothing.
* ``REQUEST_ID_PATTERN``: ``request_id`` is 1..64 characters of ``[A-Za-z0-9._:-]`` -- it travels in
  the URL and comes back in ``meta.request_id``, where we match it byte for byte.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, StrictBool, ValidationInfo, field_validator

from dispatcher.models.common import ChannelModel, Msisdn, Text, rule_error

SOURCE_NAME_MAX_CHARS = 11
SOURCE_NAME_PATTERN = re.compile(rf"^(?=.*[A-Za-z])[A-Za-z0-9]{{1,{SOURCE_NAME_MAX_CHARS}}}$")
SOURCE_NUMBER_MAX_DIGITS = 15
SOURCE_NUMBER_PATTERN = re.compile(rf"^[0-9]{{1,{SOURCE_NUMBER_MAX_DIGITS}}}$")
REQUEST_ID_MAX_CHARS = 64
REQUEST_ID_PATTERN = re.compile(rf"^[A-Za-z0-9._:-]{{1,{REQUEST_ID_MAX_CHARS}}}$")


def _matching(pattern: re.Pattern[str], rule: str) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise rule_error(rule)
        return value

    return AfterValidator(check)


SourceName = Annotated[
    str,
    _matching(
        SOURCE_NAME_PATTERN,
        f"an alphanumeric sender is 1..{SOURCE_NAME_MAX_CHARS} ASCII letters and digits with at least "
        "one letter (use source_number for a numeric sender)",
    ),
]
SourceNumber = Annotated[
    str,
    _matching(
        SOURCE_NUMBER_PATTERN, f"a sender number is 1..{SOURCE_NUMBER_MAX_DIGITS} digits, nothing else"
    ),
]
RequestId = Annotated[
    str,
    _matching(
        REQUEST_ID_PATTERN,
        f"must be 1..{REQUEST_ID_MAX_CHARS} characters of letters, digits and . _ : -",
    ),
]


class SmartswitchSms(ChannelModel):
    """One recipient group of a Smartswitch send request.

    ``stealth_ping`` is declared before ``body`` on purpose: field validators see only the fields
    declared before them, and the body rule depends on it.
    """

    destination_number: Msisdn
    stealth_ping: StrictBool = False
    #: Lone surrogates are refused by ``Text`` (they cannot be put in a URL), before the rule below.
    body: Text | None = Field(default=None, validate_default=True)
    source_name: SourceName | None = None
    source_number: SourceNumber | None = Field(default=None, validate_default=True)
    require_dlr: StrictBool = True
    request_id: RequestId | None = None

    @field_validator("body")
    @classmethod
    def _body_matches_stealth_ping(cls, body: str | None, info: ValidationInfo) -> str | None:
        stealth_ping = info.data.get("stealth_ping", False)
        if stealth_ping and body is not None:
            raise rule_error(
                "a stealth_ping (silent SMS) is invisible to the recipient and must not carry a body"
            )
        if not stealth_ping and (body is None or not body.strip()):
            raise rule_error("is required and must contain visible text (only a stealth_ping has none)")
        return body

    @field_validator("source_number")
    @classmethod
    def _one_sender(cls, source_number: str | None, info: ValidationInfo) -> str | None:
        if source_number is not None and info.data.get("source_name") is not None:
            raise rule_error("give either source_name or source_number, not both")
        return source_number

"""Small value checks shared by the providers' rule modules."""

from __future__ import annotations

import re
from typing import Any

_UNRESERVED_OR_SUB_DELIM = r"A-Za-z0-9\-._~!$&'()*+,;="
_PCT = r"%[0-9A-Fa-f]{2}"
#: An absolute http(s) URI per RFC 3986 (userinfo allowed: Revicom uses it for Basic auth).
HTTP_URL = re.compile(
    rf"""(?i:https?)://
    (?:(?:[{_UNRESERVED_OR_SUB_DELIM}:]|{_PCT})*@)?
    (?:\[[0-9A-Fa-f:.]+\]|(?:[{_UNRESERVED_OR_SUB_DELIM}]|{_PCT})+)
    (?::[0-9]{{0,5}})?
    (?:/(?:[{_UNRESERVED_OR_SUB_DELIM}:@]|{_PCT})*)*
    (?:\?(?:[{_UNRESERVED_OR_SUB_DELIM}:@/?]|{_PCT})*)?
    (?:\#(?:[{_UNRESERVED_OR_SUB_DELIM}:@/?]|{_PCT})*)?""",
    re.VERBOSE,
)


def is_int(value: Any) -> bool:
    """A JSON integer (JSON ``true`` is not one, though Python's bool is an int)."""
    return type(value) is int


def int_in(value: Any, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


def is_http_url(value: Any) -> bool:
    return isinstance(value, str) and HTTP_URL.fullmatch(value) is not None


def unique_ints_in(value: Any, low: int, high: int) -> bool:
    """A JSON array of distinct integers, each within [low, high]."""
    return (
        isinstance(value, list)
        and all(type(item) is int and low <= item <= high for item in value)
        and len(set(value)) == len(value)
    )

"""Message ids: 22 characters, time-ordered, unique without coordination (docs/pipeline.md §1).

``<11 hex digits of the epoch in ms><11 random base32 characters>``: sortable by creation time to
the millisecond, 55 random bits per millisecond against collisions, and plain letters and digits,
so the id itself is a valid BSG ``reference_id`` and a valid Smartswitch ``request_id``.
"""

from __future__ import annotations

import os

ID_LENGTH = 22
_TIME_DIGITS = 11
_RANDOM_CHARS = 11
_BASE32 = b"abcdefghijklmnopqrstuvwxyz234567"
#: Random byte -> base32 character; 256 is a multiple of 32, so every character is equally likely.
_BYTE_TO_BASE32 = bytes(_BASE32[value % len(_BASE32)] for value in range(256))


def new_message_ids(count: int, *, now: float) -> list[str]:
    """``count`` fresh ids created at ``now`` (epoch seconds); one ``urandom`` call for all of them."""
    stamp = format(int(now * 1000), f"0{_TIME_DIGITS}x")
    # One translated random stream sliced into 11-character pieces (base64.b32encode is pure Python).
    stream = os.urandom(count * _RANDOM_CHARS).translate(_BYTE_TO_BASE32).decode()
    return [
        stamp + stream[start : start + _RANDOM_CHARS]
        for start in range(0, count * _RANDOM_CHARS, _RANDOM_CHARS)
    ]


def is_message_id(text: str) -> bool:
    """True when ``text`` has the shape of an id this module makes."""
    return (
        len(text) == ID_LENGTH
        and all(char in "0123456789abcdef" for char in text[:_TIME_DIGITS])
        and all(char in _BASE32.decode() for char in text[_TIME_DIGITS:])
    )

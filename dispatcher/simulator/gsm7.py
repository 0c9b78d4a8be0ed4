"""SMS encoding and segment count, from GSM 03.38 (the simulator's own copy, by design).

GSM-7: 160 septets in one segment, 153 per segment when concatenated; the extension characters
take two septets. Any other character makes the whole text UCS-2: 70 code units in one segment,
67 when concatenated; characters outside the BMP take two code units.
"""

from __future__ import annotations

from typing import Literal

_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

Encoding = Literal["gsm7", "ucs2"]


def encoding_and_units(text: str) -> tuple[Encoding, int]:
    """The encoding a text needs and its length in that encoding's units (septets / UTF-16 units)."""
    septets = 0
    for char in text:
        if char in _GSM7_BASIC:
            septets += 1
        elif char in _GSM7_EXTENSION:
            septets += 2
        else:
            return "ucs2", len(text.encode("utf-16-le")) // 2
    return "gsm7", septets


def segment_count(text: str) -> int:
    """How many SMS segments a text takes (an empty text still takes one)."""
    encoding, units = encoding_and_units(text)
    single, concatenated = (160, 153) if encoding == "gsm7" else (70, 67)
    if units <= single:
        return 1
    return -(-units // concatenated)

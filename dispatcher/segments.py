"""How many SMS segments a text costs (GSM 03.38 7-bit or UCS-2), as the providers bill it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# GSM 03.38 basic character set (one septet each).
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: escape + character, two septets each.
_GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE, GSM7_CONCATENATED = 160, 153
UCS2_SINGLE, UCS2_CONCATENATED = 70, 67

Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True, slots=True)
class SegmentCount:
    encoding: Encoding
    #: Septets (GSM-7) or UTF-16 code units (UCS-2) the text occupies.
    units: int
    segments: int


def gsm7_septets(text: str) -> int | None:
    """Septets the text needs in GSM-7, or ``None`` when a character forces UCS-2."""
    septets = 0
    for char in text:
        if char in _GSM7_BASIC:
            septets += 1
        elif char in _GSM7_EXTENDED:
            septets += 2
        else:
            return None
    return septets


def ucs2_units(text: str) -> int:
    """UTF-16 code units: characters outside the BMP (most emoji) take two."""
    return sum(2 if ord(char) > 0xFFFF else 1 for char in text)


def count_segments(text: str) -> SegmentCount:
    """Encoding, size and number of segments of an SMS text (an empty text is one segment)."""
    septets = gsm7_septets(text)
    if septets is not None:
        return SegmentCount("GSM-7", septets, _segments(septets, GSM7_SINGLE, GSM7_CONCATENATED))
    units = ucs2_units(text)
    return SegmentCount("UCS-2", units, _segments(units, UCS2_SINGLE, UCS2_CONCATENATED))


def _segments(units: int, single: int, concatenated: int) -> int:
    if units <= single:
        return 1
    return -(-units // concatenated)

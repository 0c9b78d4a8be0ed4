"""Is a string of digits a valid international number? ``phonenumbers``' answer, ~10x faster.

``phonenumbers.parse`` + ``is_valid_number`` costs 30-80 µs per number, mostly text handling that
digits-only input does not need. This applies the same per-region metadata directly: the country
code is a prefix of the digits (E.164 codes are prefix-free), and per region and length the
patterns of every number type are compiled once into one alternation.

One deliberate difference: digits that validate only after the parser strips a national prefix
(``3708...`` for ``+370 8...``) are refused — a correct client never sends that form. The client
(``dispatcher.phone``) falls back to the full parse for anything refused here; the simulator, which
plays a strict provider, refuses it. Both are tested against ``phonenumbers.is_valid_number``.
"""

from __future__ import annotations

import re
from functools import cache

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

_E164_DIGITS = re.compile(r"[1-9][0-9]{5,14}")
_NON_GEOGRAPHIC_REGION = "001"
# The order of phonenumbers' own _number_type_helper; any match makes a number valid.
_NUMBER_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)
_NEVER_MATCHES = re.compile(r"(?!)")


class _RegionPatterns:
    """One region's metadata compiled for matching national significant numbers."""

    __slots__ = ("_by_length", "_general", "_general_lengths", "_type_descs", "leading_digits")

    def __init__(self, metadata: PhoneMetadata) -> None:
        self.leading_digits = re.compile(metadata.leading_digits) if metadata.leading_digits else None
        general = metadata.general_desc
        pattern = general.national_number_pattern if general is not None else None
        self._general = re.compile(pattern) if pattern else None
        self._general_lengths = (
            frozenset(general.possible_length or ()) if general is not None else frozenset()
        )
        self._type_descs = [getattr(metadata, name) for name in _NUMBER_TYPES]
        self._by_length: dict[int, re.Pattern[str]] = {}

    def _types_for_length(self, length: int) -> re.Pattern[str]:
        compiled = self._by_length.get(length)
        if compiled is None:
            alternatives = [
                f"(?:{desc.national_number_pattern})"
                for desc in self._type_descs
                if desc is not None
                and desc.national_number_pattern
                and (not desc.possible_length or length in desc.possible_length)
            ]
            compiled = re.compile("|".join(alternatives)) if alternatives else _NEVER_MATCHES
            self._by_length[length] = compiled
        return compiled

    def is_valid(self, national: str) -> bool:
        if self._general is None:
            return False
        if self._general_lengths and len(national) not in self._general_lengths:
            return False
        if self._general.fullmatch(national) is None:
            return False
        return self._types_for_length(len(national)).fullmatch(national) is not None


@cache
def _regions(country_code: int) -> tuple[_RegionPatterns, ...]:
    compiled = []
    for region in COUNTRY_CODE_TO_REGION_CODE[country_code]:
        if region == _NON_GEOGRAPHIC_REGION:
            metadata = PhoneMetadata.metadata_for_nongeo_region(country_code)
        else:
            metadata = PhoneMetadata.metadata_for_region(region)
        if metadata is not None:
            compiled.append(_RegionPatterns(metadata))
    return tuple(compiled)


def is_valid_e164_digits(digits: str) -> bool:
    """True when ``digits`` (E.164 without ``+``) is a valid number, as ``phonenumbers`` decides.

    False also for valid numbers in a form it does not handle (see above): callers fall back to
    the full parse rather than refuse.
    """
    if _E164_DIGITS.fullmatch(digits) is None:
        return False
    for code_length in (1, 2, 3):
        country_code = int(digits[:code_length])
        if country_code in COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return False
    national = digits[code_length:]
    # Like phonenumbers.region_code_for_number: the first region whose leading digits match owns
    # the number; regions without leading digits own it only if it is valid there.
    for region in _regions(country_code):
        if region.leading_digits is not None:
            if region.leading_digits.match(national):
                return region.is_valid(national)
        elif region.is_valid(national):
            return True
    return False

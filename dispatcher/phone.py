"""Phone numbers: parse and normalise with ``phonenumbers``, and mask for logs.

Providers want the international number as digits only (``14085553911``); we store and compare that
form everywhere. A full ``phonenumbers`` parse and validation costs ~30 µs, so hot paths validate a
number once, at intake, and carry the normalised digits from then on. Numbers already written as
E.164 digits (the common case for bulk intake) take a fast path of ~3 µs (``is_valid_e164_digits``)
built on the same ``phonenumbers`` metadata; anything else, or anything the fast path does not
accept, goes through the full parse, so the two paths cannot disagree on what is valid.
"""

from __future__ import annotations

import re
from functools import cache

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata

#: ITU-T E.164: at most 15 digits including the country code.
MAX_E164_DIGITS = 15


class InvalidPhoneNumber(ValueError):
    """The text is not a valid international phone number; the message says why."""


def normalize_msisdn(raw: str, *, default_region: str | None = None) -> str:
    """Return the number as E.164 digits without ``+``, or raise ``InvalidPhoneNumber``.

    Accepts ``+14085553911``, ``14085553911``, ``00 1 (408) 555-3911`` and, with a
    ``default_region``, national forms. Numbers must be valid for their region, not merely possible.
    """
    text = raw.strip()
    if not text:
        raise InvalidPhoneNumber("must not be empty")
    digits = text[1:] if text.startswith("+") else text
    if (default_region is None or text.startswith("+")) and is_valid_e164_digits(digits):
        return digits
    if text.startswith("00"):
        text = "+" + text[2:]
    elif default_region is None and not text.startswith("+"):
        text = "+" + text
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"is not a phone number ({exc._msg})") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(
            "is not a valid number for any country (E.164: country code and national number)"
        )
    # national_significant_number keeps the leading zeros of Italian-style numbers.
    return f"{number.country_code}{phonenumbers.national_significant_number(number)}"


def mask_msisdn(msisdn: str) -> str:
    """Mask a number for logs: country code and the last two digits stay, ``4408****11``."""
    digits = msisdn.lstrip("+")
    if len(digits) <= 6:
        return "*" * len(digits)
    return digits[:4] + "*" * (len(digits) - 6) + digits[-2:]


# --- the fast path ---------------------------------------------------------------------------------
# phonenumbers' parser spends most of its ~30 µs on text handling that digits-only input does not
# need. Applying its per-region metadata directly: the country code is a prefix of the digits (E.164
# codes are prefix-free), and per region and length the patterns of every number type are compiled
# once into one alternation. A number this path refuses is not declared invalid: it goes through the
# full parse, which also accepts forms the fast path leaves out on purpose (a national prefix after
# the country code, ``+370 8...``, which the parser strips and which then normalises to other digits).

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

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

import phonenumbers

from dispatcher.numbering import is_valid_e164_digits

#: ITU-T E.164: at most 15 digits including the country code.
MAX_E164_DIGITS = 15


class InvalidPhoneNumber(ValueError):
    """The text is not a valid international phone number; the message says why."""


#: What people type between digits, and nothing else may be dropped: spaces, dashes, brackets.
_FORMATTING = re.compile(r"[\s\-()]")
_DIGITS = re.compile(r"[0-9]+")


#: The rule of a default region, as errors state it.
REGION_RULE = "must be a two-letter ISO 3166 region code phonenumbers knows (RU, DE, US, ...)"


def region_code(region: str) -> str:
    """``region`` as phonenumbers names it (upper case), or ``ValueError`` stating ``REGION_RULE``."""
    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(REGION_RULE)
    return code


def normalize_msisdn(raw: str, *, default_region: str | None = None) -> str:
    """Return the number as E.164 digits without ``+``, or raise ``InvalidPhoneNumber``.

    A number written internationally (``+14085553911``, ``14085553911``, ``00 1 (408) 555-3911``)
    keeps exactly the digits written: only spaces, dashes, brackets and a leading ``+`` or ``00``
    are removed, and a number that would need any other change (a national prefix left after the
    country code, a digit too many) is refused with what it would have to be, never rewritten. With
    a ``default_region``, a number written nationally (without ``+`` or ``00``) follows that
    region's dialling rule (``8 916 123-45-67`` in RU is ``79161234567``). Numbers must be valid for
    their region, not merely possible.
    """
    text = raw.strip()
    if not text:
        raise InvalidPhoneNumber("must not be empty")
    if default_region is not None and not text.startswith(("+", "00")):
        return _national(text, default_region)
    written = text[1:] if text.startswith("+") else text[2:] if text.startswith("00") else text
    digits = _FORMATTING.sub("", written)
    if not _DIGITS.fullmatch(digits):
        raise InvalidPhoneNumber("may hold only digits, spaces, dashes, brackets and a leading + or 00")
    if len(digits) > MAX_E164_DIGITS:
        raise InvalidPhoneNumber(f"has {len(digits)} digits: E.164 allows at most {MAX_E164_DIGITS}")
    if is_valid_e164_digits(digits):
        return digits
    try:
        number: phonenumbers.PhoneNumber | None = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        if text.startswith(("+", "00")):
            raise InvalidPhoneNumber(
                "is not a valid number for any country (E.164: country code and national number)"
            )
        # No + or 00: most likely a national number, which needs its country code (or a region).
        raise InvalidPhoneNumber(
            "is not a valid international number: written nationally? Give it with its country code "
            "(+7 916 123-45-67), or give the default region the number belongs to"
        )
    # national_significant_number keeps the leading zeros of Italian-style numbers.
    valid = f"{number.country_code}{phonenumbers.national_significant_number(number)}"
    if valid != digits:
        raise InvalidPhoneNumber(f"is not valid as written; the valid number nearest to it is +{valid}")
    return digits


def _national(text: str, region: str) -> str:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"is not a phone number ({exc._msg})") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(f"is not a valid number in region {region}")
    return f"{number.country_code}{phonenumbers.national_significant_number(number)}"


def mask_msisdn(msisdn: str) -> str:
    """Mask a number for logs: country code and the last two digits stay, ``4408****11``."""
    digits = msisdn.lstrip("+")
    if len(digits) <= 6:
        return "*" * len(digits)
    return digits[:4] + "*" * (len(digits) - 6) + digits[-2:]

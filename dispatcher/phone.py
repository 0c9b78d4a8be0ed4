"""Phone numbers: parse and normalise with ``phonenumbers``, and mask for logs.

Providers want the international number as digits only (``14085553911``); we store and compare that
form everywhere. A full ``phonenumbers`` parse and validation costs ~30 µs, so hot paths validate a
number once, at intake, and carry the normalised digits from then on. Numbers already written as
E.164 digits (the common case for bulk intake) take a fast path of ~3 µs (``is_valid_e164_digits``)
built on the same ``phonenumbers`` metadata; anything else, or anything the fast path does not
accept, goes through the full parse, so the two paths cannot disagree on what is valid.
"""

from __future__ import annotations

import phonenumbers

from dispatcher.numbering import is_valid_e164_digits

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

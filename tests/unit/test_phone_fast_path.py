"""The fast path of ``normalize_msisdn`` for E.164 digits agrees with the full ``phonenumbers`` parse."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneNumberType

from dispatcher.phone import InvalidPhoneNumber, is_valid_e164_digits, normalize_msisdn

SEED = 20240611


def _full_parse(digits: str) -> str | None:
    """What the slow path alone says: the normalised digits, or None when invalid."""
    try:
        number = phonenumbers.parse("+" + digits)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return f"{number.country_code}{phonenumbers.national_significant_number(number)}"


def _sample(size: int) -> list[str]:
    """Example numbers of every region and type, their near neighbours (mostly valid), and random
    digit strings under real country codes (mostly invalid)."""
    rng = random.Random(SEED)
    examples = []
    for region in phonenumbers.SUPPORTED_REGIONS:
        for number_type in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.TOLL_FREE):
            example = phonenumbers.example_number_for_type(region, number_type)
            if example is not None:
                examples.append(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)[1:])
    sample = list(examples)
    codes = sorted(COUNTRY_CODE_TO_REGION_CODE)
    while len(sample) < size:
        if rng.random() < 0.5:
            base = rng.choice(examples)
            keep = len(base) - rng.randint(1, 4)
            sample.append(base[:keep] + "".join(rng.choice("0123456789") for _ in range(len(base) - keep)))
        else:
            code = str(rng.choice(codes))
            length = rng.randint(6, 15) - len(code)
            sample.append(code + "".join(rng.choice("0123456789") for _ in range(max(length, 1))))
    # Sorted, so numbers of one country come together: phonenumbers compiles its patterns through
    # the `re` module's small cache, which thrashes (and takes seconds) on a shuffled world sample.
    return sorted(sample)


def test_fast_check_never_accepts_what_phonenumbers_refuses_or_normalises_differently() -> None:
    sample = _sample(40_000)
    accepted = 0
    for digits in sample:
        if is_valid_e164_digits(digits):
            accepted += 1
            assert _full_parse(digits) == digits, digits
    # The sample is meaningful only if it holds plenty of both kinds.
    assert 5_000 < accepted < len(sample) - 5_000


def test_normalize_keeps_the_digits_written_or_refuses_for_every_sampled_number() -> None:
    # Valid as written: kept. Valid only after phonenumbers changes a digit, or not at all: refused.
    for digits in _sample(5_000):
        expected = _full_parse(digits)
        for form in (digits, "+" + digits):
            if expected == digits:
                assert normalize_msisdn(form) == digits, form
            else:
                with pytest.raises(InvalidPhoneNumber):
                    normalize_msisdn(form)


def test_a_national_prefix_after_the_country_code_is_refused_naming_the_number_meant() -> None:
    # Germany's trunk prefix 0 written after +49: the parser would strip it; we never change a digit.
    assert not is_valid_e164_digits("49030093874")
    with pytest.raises(
        InvalidPhoneNumber, match=r"not valid as written; the valid number nearest to it is \+4930093874"
    ):
        normalize_msisdn("49030093874")


def test_formatted_and_national_input_still_work() -> None:
    assert normalize_msisdn("+1 (408) 555-3911") == "14085553911"
    assert normalize_msisdn("020 7946 0958", default_region="GB") == "442079460958"

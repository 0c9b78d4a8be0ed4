"""BSG's documented rules for ``POST /api/messages/rcs/send``, as a pure function.

``request_errors`` returns Laravel-style field errors (``{"phone.number": ["..."]}``) for every
rule the body breaks -- all of them at once, as BSG's 422 does -- or an empty dict.
"""

from __future__ import annotations

import re
from typing import Any

from dispatcher.numbering import is_valid_e164_digits as is_valid_msisdn
from dispatcher.simulator.checks import int_in, is_http_url, is_int
from dispatcher.simulator.gsm7 import encoding_and_units

TOP_LEVEL = frozenset(
    {
        "phone",
        "sender",
        "options",
        "validity_seconds",
        "validity",
        "alternative_channel",
        "callback_url",
        "add_to_contact_book",
        "tariff_code",
        "check_stop_list",
    }
)
PHONE_NUMBER = re.compile(r"[0-9]{9,15}")
REFERENCE_ID = re.compile(r"[A-Za-z0-9]{1,32}")
SENDER_MAX = 40
TEXT_MAX = 160
CARDS_MAX = 5
CARD_TEXT_MAX = 1000
MEDIA_URL_MAX = 1000
SUGGESTIONS_MAX = 2
SUGGESTION_TEXT_MAX = 25
POSTBACK_MAX = 25
VALIDITY_SECONDS = (30, 86400)
VALIDITY_HOURS = (1, 72)
CALLBACK_URL_MAX = 100
SMS_TEXT_MAX = {"gsm7": 765, "ucs2": 355}
#: Alternative SMS sender: up to 11 letters/digits (alphanumeric) or up to 15 digits (numeric).
SMS_SENDER = re.compile(r"[A-Za-z0-9]{1,11}|[0-9]{1,15}")
SUGGESTION_KINDS = {"link": "url", "call": "phone"}

Errors = dict[str, list[str]]


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _unknown(errors: Errors, prefix: str, value: dict[str, Any], allowed: frozenset[str]) -> None:
    for name in value:
        if name not in allowed:
            _add(errors, f"{prefix}{name}", f"The {prefix}{name} field is not allowed.")


def _string(errors: Errors, field: str, value: Any, low: int, high: int) -> bool:
    if not isinstance(value, str):
        _add(errors, field, f"The {field} must be a string.")
        return False
    if not low <= len(value) <= high:
        _add(errors, field, f"The {field} must be between {low} and {high} characters.")
        return False
    return True


def _validity(errors: Errors, prefix: str, body: dict[str, Any]) -> None:
    if "validity_seconds" in body and "validity" in body:
        _add(
            errors,
            f"{prefix}validity",
            f"Only one of {prefix}validity and {prefix}validity_seconds may be given.",
        )
    if "validity_seconds" in body and not int_in(body["validity_seconds"], *VALIDITY_SECONDS):
        low, high = VALIDITY_SECONDS
        _add(
            errors,
            f"{prefix}validity_seconds",
            f"The {prefix}validity_seconds must be an integer between {low} and {high}.",
        )
    if "validity" in body and not int_in(body["validity"], *VALIDITY_HOURS):
        low, high = VALIDITY_HOURS
        _add(
            errors, f"{prefix}validity", f"The {prefix}validity must be an integer between {low} and {high}."
        )


def _boolean(errors: Errors, field: str, body: dict[str, Any], name: str) -> None:
    if name in body and type(body[name]) is not bool:
        _add(errors, field, f"The {field} field must be true or false.")


def _object(errors: Errors, field: str, value: Any) -> bool:
    if not isinstance(value, dict):
        _add(errors, field, f"The {field} must be an object.")
        return False
    return True


def _phone(errors: Errors, phone: Any) -> None:
    if not _object(errors, "phone", phone):
        return
    _unknown(errors, "phone.", phone, frozenset({"number", "reference_id"}))
    number = phone.get("number")
    if number is None:
        _add(errors, "phone.number", "The phone.number field is required.")
    elif not isinstance(number, str) or PHONE_NUMBER.fullmatch(number) is None:
        _add(errors, "phone.number", "The phone.number must be a string of 9 to 15 digits.")
    elif not is_valid_msisdn(number):
        _add(errors, "phone.number", "The phone.number is not a valid international number.")
    reference = phone.get("reference_id")
    if "reference_id" in phone and (
        not isinstance(reference, str) or REFERENCE_ID.fullmatch(reference) is None
    ):
        _add(errors, "phone.reference_id", "The phone.reference_id must be 1 to 32 letters or digits.")


def _suggestion(errors: Errors, field: str, suggestion: Any) -> None:
    if not _object(errors, field, suggestion):
        return
    _unknown(errors, f"{field}.", suggestion, frozenset({"type", "text", "url", "phone", "postback_data"}))
    if "text" not in suggestion:
        _add(errors, f"{field}.text", f"The {field}.text field is required.")
    else:
        _string(errors, f"{field}.text", suggestion["text"], 1, SUGGESTION_TEXT_MAX)
    if "postback_data" in suggestion:
        _string(errors, f"{field}.postback_data", suggestion["postback_data"], 1, POSTBACK_MAX)
    # The doc's example omits `type`: then exactly one of url / phone says which kind it is.
    kind = suggestion.get("type")
    targets = [name for name in ("url", "phone") if name in suggestion]
    if kind is not None and kind not in SUGGESTION_KINDS:
        _add(errors, f"{field}.type", f"The {field}.type must be link or call.")
        return
    if len(targets) != 1 or (kind is not None and targets[0] != SUGGESTION_KINDS[kind]):
        _add(errors, field, f"The {field} must have a url (link) or a phone (call), not both.")
        return
    if targets[0] == "url" and not is_http_url(suggestion["url"]):
        _add(errors, f"{field}.url", f"The {field}.url must be a valid http(s) URL.")
    if targets[0] == "phone" and (
        not isinstance(suggestion["phone"], str) or PHONE_NUMBER.fullmatch(suggestion["phone"]) is None
    ):
        _add(errors, f"{field}.phone", f"The {field}.phone must be a string of 9 to 15 digits.")


def _card(errors: Errors, field: str, card: Any) -> None:
    if not _object(errors, field, card):
        return
    _unknown(errors, f"{field}.", card, frozenset({"title", "text", "media", "suggestions"}))
    if not {"title", "text", "media"} & set(card):
        _add(errors, field, f"The {field} needs a title, a text or a media.")
    if "title" in card:
        _string(errors, f"{field}.title", card["title"], 1, CARD_TEXT_MAX)
    if "text" in card:
        _string(errors, f"{field}.text", card["text"], 1, CARD_TEXT_MAX)
    if "media" in card and _object(errors, f"{field}.media", card["media"]):
        media = card["media"]
        _unknown(errors, f"{field}.media.", media, frozenset({"url"}))
        url = media.get("url")
        if not isinstance(url, str) or not 1 <= len(url) <= MEDIA_URL_MAX or not is_http_url(url):
            _add(
                errors,
                f"{field}.media.url",
                f"The {field}.media.url must be an http(s) URL of at most {MEDIA_URL_MAX} characters.",
            )
    if "suggestions" in card:
        suggestions = card["suggestions"]
        if not isinstance(suggestions, list) or len(suggestions) > SUGGESTIONS_MAX:
            _add(
                errors,
                f"{field}.suggestions",
                f"The {field}.suggestions must be a list of at most {SUGGESTIONS_MAX}.",
            )
        else:
            for index, suggestion in enumerate(suggestions):
                _suggestion(errors, f"{field}.suggestions.{index}", suggestion)


def _options(errors: Errors, options: Any) -> None:
    if not _object(errors, "options", options):
        return
    _unknown(errors, "options.", options, frozenset({"text", "cards"}))
    if ("text" in options) == ("cards" in options):
        _add(errors, "options", "The options must have either a text or cards, not both.")
        return
    if "text" in options:
        _string(errors, "options.text", options["text"], 1, TEXT_MAX)
        return
    cards = options["cards"]
    if not isinstance(cards, list) or not 1 <= len(cards) <= CARDS_MAX:
        _add(errors, "options.cards", f"The options.cards must be a list of 1 to {CARDS_MAX} cards.")
        return
    for index, card in enumerate(cards):
        _card(errors, f"options.cards.{index}", card)


def _alternative_sms(errors: Errors, alternative: Any) -> None:
    if not _object(errors, "alternative_channel", alternative):
        return
    _unknown(errors, "alternative_channel.", alternative, frozenset({"sms"}))
    sms = alternative.get("sms")
    if not _object(errors, "alternative_channel.sms", sms):
        return
    prefix = "alternative_channel.sms."
    _unknown(
        errors, prefix, sms, frozenset({"text", "sender", "validity", "validity_seconds", "check_stop_list"})
    )
    text = sms.get("text")
    if not isinstance(text, str) or text == "":
        _add(errors, f"{prefix}text", f"The {prefix}text field is required and must be a string.")
    else:
        encoding, units = encoding_and_units(text)
        if units > SMS_TEXT_MAX[encoding]:
            _add(
                errors,
                f"{prefix}text",
                f"The {prefix}text may have at most {SMS_TEXT_MAX[encoding]} {encoding} characters.",
            )
    sender = sms.get("sender")
    if not isinstance(sender, str) or SMS_SENDER.fullmatch(sender) is None:
        _add(
            errors,
            f"{prefix}sender",
            f"The {prefix}sender must be up to 11 letters/digits or up to 15 digits.",
        )
    _validity(errors, prefix, sms)
    _boolean(errors, f"{prefix}check_stop_list", sms, "check_stop_list")


def request_errors(body: Any) -> Errors:
    """Every rule the send body breaks, by field path; empty when it follows them all."""
    errors: Errors = {}
    if not isinstance(body, dict):
        return {"body": ["The request body must be a JSON object."]}
    _unknown(errors, "", body, TOP_LEVEL)
    for name in ("phone", "sender", "options"):
        if name not in body:
            _add(errors, name, f"The {name} field is required.")
    if "phone" in body:
        _phone(errors, body["phone"])
    if "sender" in body:
        _string(errors, "sender", body["sender"], 1, SENDER_MAX)
    if "options" in body:
        _options(errors, body["options"])
    _validity(errors, "", body)
    if "alternative_channel" in body:
        _alternative_sms(errors, body["alternative_channel"])
    if "callback_url" in body:
        url = body["callback_url"]
        if not isinstance(url, str) or len(url) > CALLBACK_URL_MAX or not is_http_url(url):
            _add(
                errors,
                "callback_url",
                f"The callback_url must be an http(s) URL of at most {CALLBACK_URL_MAX} characters.",
            )
    _boolean(errors, "add_to_contact_book", body, "add_to_contact_book")
    _boolean(errors, "check_stop_list", body, "check_stop_list")
    if "tariff_code" in body and not is_int(body["tariff_code"]):
        _add(errors, "tariff_code", "The tariff_code must be an integer.")
    return errors

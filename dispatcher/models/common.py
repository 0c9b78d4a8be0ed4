"""What every channel model shares: strict configuration, the phone-number, text and URL types, and
the translation of pydantic's errors into ``InvalidMessage`` (field, value, rule)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, StrictStr, ValidationError
from pydantic_core import PydanticCustomError

from dispatcher.errors import InvalidMessage, Problem
from dispatcher.phone import InvalidPhoneNumber, normalize_msisdn


class ChannelModel(BaseModel):
    """Base of the channel models: unknown fields are refused, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


#: The region numbers written nationally belong to, while a request that names one is validated
#: (``numbers_in_region``); None everywhere else: such numbers are refused.
_REGION: ContextVar[str | None] = ContextVar("dispatcher_default_region", default=None)


@contextmanager
def numbers_in_region(region: str | None) -> Iterator[None]:
    """Within the block, ``Msisdn`` fields read a number written nationally as one of ``region``
    (a phonenumbers region code, already checked)."""
    token = _REGION.set(region)
    try:
        yield
    finally:
        _REGION.reset(token)


def _msisdn(value: str) -> str:
    try:
        return normalize_msisdn(value, default_region=_REGION.get())
    except InvalidPhoneNumber as exc:
        raise PydanticCustomError(
            "phone_number", "must be a valid phone number: {reason}", {"reason": str(exc)}
        ) from None


def rule_error(rule: str) -> PydanticCustomError:
    """An error whose text is the rule that was broken (pydantic adds the field and the value)."""
    return PydanticCustomError("provider_rule", rule)


#: The rule of every free-text field: JSON (orjson) and URLs carry only valid Unicode.
UNICODE_TEXT_RULE = "must be valid Unicode text (no lone surrogates)"


def unicode_text(value: str) -> str:
    """``value`` unless it holds a lone surrogate (Python allows one in a str, UTF-8 and JSON do not).

    Every free-text field of every channel model runs this, so a message the model accepts can
    always be encoded for the wire; fields whose own rule admits only ASCII need not.
    """
    # isascii() is O(1) on CPython (a flag of the string); encode() is the fast C path otherwise.
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise rule_error(UNICODE_TEXT_RULE) from None
    return value


#: A free-text string (any characters but lone surrogates); put further rules after it.
Text = Annotated[str, AfterValidator(unicode_text)]
#: The same, refusing anything that is not already a str (no coercion).
StrictText = Annotated[StrictStr, AfterValidator(unicode_text)]

#: An international phone number, normalised to E.164 digits without ``+``. phonenumbers ignores
#: some trailing characters ("14085553911\ud800" would pass), so lone surrogates are refused first.
Msisdn = Annotated[Text, AfterValidator(_msisdn)]

#: RFC 3986 section 2: unreserved and reserved characters, and %XX escapes; nothing else.
_URI_CHARACTERS = re.compile(r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+")
URL_PORT_MAX = 65535


def http_url_rule(what: str) -> Callable[[str], str]:
    """The check of an absolute http(s) URL, its rule texts naming ``what`` (e.g. "callback URL").

    The URL must be an RFC 3986 URI (ASCII only, so no further Unicode check is needed) of the shape
    ``http[s]://[login:password@]host[:port][/path][?query][#fragment]``, with a port 0..65535.
    """
    characters = f"{what} must be an RFC 3986 URI: letters, digits, -._~:/?#[]@!$&'()*+,;= and %XX only"
    shape = (
        f"{what} must be an absolute http:// or https:// URL: http[s]://[login:password@]host[:port][/path]"
    )
    port_range = f"{what} port must be a number 0..{URL_PORT_MAX}"

    def check(value: str) -> str:
        if not _URI_CHARACTERS.fullmatch(value):
            raise rule_error(characters)
        try:
            parts = urlsplit(value)
        except ValueError:  # e.g. "http://[::1": an unclosed or invalid IPv6 host
            raise rule_error(shape) from None
        if parts.scheme.lower() not in ("http", "https"):
            raise rule_error(shape)
        try:
            port = parts.port  # ValueError when not a number or outside 0..65535
        except ValueError:
            raise rule_error(port_range) from None
        if not parts.hostname or (port is None and parts.netloc.endswith(":")):
            raise rule_error(shape)
        return value

    return check


ModelT = TypeVar("ModelT", bound=BaseModel)


def build(model: type[ModelT], data: Any) -> ModelT:
    """Validate ``data`` into ``model``, raising ``InvalidMessage`` that names every problem."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_message(exc) from None


def invalid_message(exc: ValidationError) -> InvalidMessage:
    """Translate pydantic's error list into our ``InvalidMessage`` (field, value, rule)."""
    return InvalidMessage([_problem(error) for error in exc.errors(include_url=False)])


def _problem(error: Any) -> Problem:
    field = ".".join(str(part) for part in error["loc"])
    kind = error["type"]
    value = error.get("input")
    if kind == "missing":
        # pydantic's "input" of a missing field is the whole object around it (phone numbers and all):
        # the field itself had no value.
        value = None
    elif kind in ("union_tag_not_found", "union_tag_invalid") and isinstance(value, Mapping):
        # The same for the channel tag: name the tag field and its value, not the whole message.
        tag_field = str((error.get("ctx") or {}).get("discriminator", "")).strip("'")
        if tag_field.isidentifier():
            field = ".".join(filter(None, (field, tag_field)))
            value = value.get(tag_field)
        else:
            value = None
    return Problem(field=reportable(field) or "(message)", value=reportable(value), rule=error["msg"])


#: ``scheme://user:password@`` in a URL (callback URLs may embed Basic-auth credentials).
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]*@")


#: Containers nested deeper than this are reported as "..." (the value only illustrates the problem).
_REPORT_DEPTH = 8


def reportable(value: Any, depth: int = 0) -> Any:
    """A value as a problem reports it. Error texts end up in logs and API answers (JSON), so a URL's
    user-info never goes with them, and a lone surrogate (which JSON and UTF-8 cannot carry) is
    written as its escape: ``"A\\ud800"``. ``build()`` reports through it; code that turns pydantic's
    errors into problems on its own (the HTTP API's request validation) should too."""
    if isinstance(value, str):
        if not value.isascii():
            value = value.encode("utf-8", "backslashreplace").decode("utf-8")
        return _URL_USERINFO.sub(r"\1***@", value)
    if isinstance(value, dict | list | tuple):
        if depth >= _REPORT_DEPTH:
            return "..."
        if isinstance(value, dict):
            return {reportable(key, depth + 1): reportable(item, depth + 1) for key, item in value.items()}
        items = [reportable(item, depth + 1) for item in value]
        return items if isinstance(value, list) else tuple(items)
    return value

"""What every channel model shares: strict configuration, the phone-number type, and the
translation of pydantic's errors into ``InvalidMessage`` (field, value, rule)."""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError

from dispatcher.errors import InvalidMessage, Problem
from dispatcher.phone import InvalidPhoneNumber, normalize_msisdn


class ChannelModel(BaseModel):
    """Base of the channel models: unknown fields are refused, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


def _msisdn(value: str) -> str:
    try:
        return normalize_msisdn(value)
    except InvalidPhoneNumber as exc:
        raise PydanticCustomError(
            "phone_number", "must be a valid phone number: {reason}", {"reason": str(exc)}
        ) from None


#: An international phone number, normalised to E.164 digits without ``+``.
Msisdn = Annotated[str, AfterValidator(_msisdn)]


def rule_error(rule: str) -> PydanticCustomError:
    """An error whose text is the rule that was broken (pydantic adds the field and the value)."""
    return PydanticCustomError("provider_rule", rule)


ModelT = TypeVar("ModelT", bound=BaseModel)


def build(model: type[ModelT], data: Any) -> ModelT:
    """Validate ``data`` into ``model``, raising ``InvalidMessage`` that names every problem."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_message(exc) from None


def invalid_message(exc: ValidationError) -> InvalidMessage:
    """Translate pydantic's error list into our ``InvalidMessage`` (field, value, rule)."""
    problems = [
        Problem(
            field=".".join(str(part) for part in error["loc"]) or "(message)",
            value=_without_url_credentials(error.get("input")),
            rule=error["msg"],
        )
        for error in exc.errors(include_url=False)
    ]
    return InvalidMessage(problems)


#: ``scheme://user:password@`` in a URL (callback URLs may embed Basic-auth credentials).
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]*@")


def _without_url_credentials(value: Any) -> Any:
    """Error texts end up in logs and API answers: a URL's user-info never goes with them."""
    if isinstance(value, str):
        return _URL_USERINFO.sub(r"\1***@", value)
    return value

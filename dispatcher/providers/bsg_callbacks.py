"""BSG's RCS callbacks (status and click objects) and its status vocabulary.

Status: ``{"error","errorDescription","id","msisdn","reference","time_in","time_sent","time_dr",
"status","price","currency"}`` (time_sent, time_dr nullable). Click: ``{"id","reference","msisdn",
"text","postback","time_click"}``. Dates are ``Y-m-d H:i:s``; the time zone is not documented
(``PROVIDER_TIMEZONE``). Whatever the body, ``parse_callback`` returns a report or raises
``InvalidCallback``: a provider's callback must never crash the endpoint that receives it.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Annotated, Any, TypeVar

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StrictInt,
    StrictStr,
    ValidationError,
)

from dispatcher.errors import InvalidCallback, Problem
from dispatcher.models.common import invalid_message, rule_error
from dispatcher.providers.outcomes import DeliveryReport, DeliveryStatus

PROVIDER = "bsg"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
#: *Unconfirmed*: BSG does not say which zone its dates are in; UTC is assumed here and only here.
PROVIDER_TIMEZONE: tzinfo = UTC

#: Every documented BSG status. ``None``: still with the provider, nothing new to record
#: (the message stays ``submitted``).
STATUS_TABLE: dict[str, DeliveryStatus | None] = {
    "scheduled": None,
    "moderation": None,
    "accepted": None,
    "sending": None,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "expired": DeliveryStatus.EXPIRED,
    "failed": DeliveryStatus.FAILED,
    "undelivered": DeliveryStatus.UNDELIVERED,
    "unknown": DeliveryStatus.UNKNOWN,
    "not_viber_user": DeliveryStatus.NOT_SERVICE_USER,
    "not_service_user": DeliveryStatus.NOT_SERVICE_USER,
}


def _known_status(value: str) -> str:
    if value not in STATUS_TABLE:
        raise rule_error(f"status must be one of BSG's statuses: {', '.join(STATUS_TABLE)}")
    return value


def provider_time(value: object) -> datetime | None:
    """A BSG date (``Y-m-d H:i:s``) as an aware datetime, or ``None`` when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, TIME_FORMAT).replace(tzinfo=PROVIDER_TIMEZONE)
    except ValueError:
        return None


def _provider_time(value: Any) -> datetime:
    parsed = provider_time(value)
    if parsed is None:
        raise rule_error("must be a date and time as Y-m-d H:i:s")
    return parsed


def _msisdn(value: str) -> str:
    if not (value.isascii() and value.isdigit() and 9 <= len(value) <= 15):
        raise rule_error("msisdn must be 9..15 digits")
    return value


def _message_id(value: Any) -> Any:
    # The page's example sends the id as a string, the OpenAPI spec as an integer: take both.
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return value
    raise rule_error("id must be a positive integer or a string of digits")


def _empty_as_none(value: Any) -> Any:
    return None if value == "" else value


ProviderTime = Annotated[datetime, BeforeValidator(_provider_time)]
Msisdn = Annotated[StrictStr, AfterValidator(_msisdn)]
MessageId = Annotated[str, BeforeValidator(_message_id)]
Reference = Annotated[StrictStr | None, BeforeValidator(_empty_as_none)]
KnownStatus = Annotated[StrictStr, AfterValidator(_known_status)]


class _Callback(BaseModel):
    # Unknown keys are ignored: a provider adding a field must not make its callbacks unreadable.
    model_config = ConfigDict(extra="ignore", frozen=True)


class StatusCallback(_Callback):
    id: MessageId
    msisdn: Msisdn
    status: KnownStatus
    time_in: ProviderTime
    time_sent: ProviderTime | None = None
    time_dr: ProviderTime | None = None
    reference: Reference = None
    error: StrictInt | None = None
    errorDescription: StrictStr | None = None  # BSG's wire name
    price: StrictStr | None = None
    currency: StrictStr | None = None


class ClickCallback(_Callback):
    id: MessageId
    time_click: ProviderTime
    reference: Reference = None
    msisdn: Msisdn | None = None
    text: StrictStr | None = None
    postback: StrictStr | None = None


def delivery_status(provider_status: str) -> DeliveryStatus | None:
    """Our state for a BSG status (``None``: no change); an undocumented status is UNKNOWN."""
    return STATUS_TABLE.get(provider_status, DeliveryStatus.UNKNOWN)


def parse_callback(body: bytes) -> DeliveryReport:
    """One BSG callback body as a ``DeliveryReport`` (kind ``status`` or ``click``)."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise _invalid("(body)", body[:200], "must be a JSON object") from None
    if not isinstance(document, dict):
        raise _invalid("(body)", document, "must be a JSON object (a BSG status or click)")
    if "status" in document:
        return _status_report(_validated(StatusCallback, document))
    if "time_click" in document:
        return _click_report(_validated(ClickCallback, document))
    raise _invalid("(body)", document, "must be a BSG status object (status) or click object (time_click)")


def _status_report(callback: StatusCallback) -> DeliveryReport:
    return DeliveryReport(
        provider=PROVIDER,
        provider_message_id=callback.id,
        kind="status",
        status=STATUS_TABLE[callback.status],
        provider_status=callback.status,
        occurred_at=callback.time_dr or callback.time_sent or callback.time_in,
        error_code=str(callback.error) if callback.error else None,
        reference=callback.reference,
    )


def _click_report(callback: ClickCallback) -> DeliveryReport:
    return DeliveryReport(
        provider=PROVIDER,
        provider_message_id=callback.id,
        kind="click",
        status=None,
        provider_status="click",
        occurred_at=callback.time_click,
        reference=callback.reference,
    )


CallbackT = TypeVar("CallbackT", bound=_Callback)


def _validated(model: type[CallbackT], document: dict[str, Any]) -> CallbackT:
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise InvalidCallback(invalid_message(exc).problems) from None


def _invalid(field: str, value: object, rule: str) -> InvalidCallback:
    return InvalidCallback([Problem(field, value, rule)])

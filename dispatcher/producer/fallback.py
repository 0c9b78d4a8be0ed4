"""The SMS stand-in of an RCS message, as a message of the SMS account's provider (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dispatcher.accounts import Account
from dispatcher.errors import InvalidMessage, Problem
from dispatcher.models.bsg import BsgRcs
from dispatcher.models.common import build
from dispatcher.models.revicom import RevicomSms
from dispatcher.models.smartswitch import SmartswitchSms
from dispatcher.producer.extras import SmsFallback
from dispatcher.producer.routing import Message

#: The SMS model of each provider that can carry a fallback, and its fields.
_SMS_OF_PROVIDER: Mapping[str, tuple[type[Message], tuple[str, str, str]]] = {
    "revicom": (RevicomSms, ("destination", "text", "sender_name")),
    "smartswitch": (SmartswitchSms, ("destination_number", "body", "source_name")),
}


def fallback_sms(rcs: BsgRcs, fallback: SmsFallback, accounts: Mapping[str, Account]) -> Message:
    """The SMS for ``rcs``'s number; raises InvalidMessage (fields under ``fallback.``)."""
    account = accounts.get(fallback.account) if fallback.account is not None else None
    provider = account.provider if account is not None else "revicom"
    if provider not in _SMS_OF_PROVIDER:
        raise InvalidMessage(
            [Problem("fallback.account", fallback.account, "must be a Revicom or Smartswitch account")]
        )
    model, (number, text, sender) = _SMS_OF_PROVIDER[provider]
    fields: dict[str, Any] = {number: rcs.phone.number, text: fallback.text, sender: fallback.sender}
    try:
        return build(model, fields)
    except InvalidMessage as exc:
        raise InvalidMessage(
            [Problem(f"fallback.{p.field}", p.value, p.rule) for p in exc.problems]
        ) from None

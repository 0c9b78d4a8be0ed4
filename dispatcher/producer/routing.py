"""Where a message goes: its provider (from the model type), account, priority class and lane.

Pure decisions over the accounts file; docs/pipeline.md §1 fixes the defaults: VOICECODE and
FLASHCALL, and single sends, are transactional; ``send_many`` and campaigns are bulk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias

from dispatcher.accounts import Account
from dispatcher.errors import InvalidMessage, Problem
from dispatcher.models.bsg import BsgRcs
from dispatcher.models.revicom import RevicomFlashCall, RevicomSms, RevicomVk, RevicomVoiceCode
from dispatcher.models.smartswitch import SmartswitchSms
from dispatcher.taskqueue import BULK_QUEUE, PRIORITY_CLASSES, TRANSACTIONAL_QUEUE, lane_name

#: Everything ``Dispatcher`` sends: the channel models.
Message: TypeAlias = RevicomSms | RevicomVoiceCode | RevicomFlashCall | RevicomVk | SmartswitchSms | BsgRcs

PROVIDER_OF: Mapping[type, str] = {
    RevicomSms: "revicom",
    RevicomVoiceCode: "revicom",
    RevicomFlashCall: "revicom",
    RevicomVk: "revicom",
    SmartswitchSms: "smartswitch",
    BsgRcs: "bsg",
}
#: The channel of each model: a label of the store's statistics (messages by provider, channel, state).
CHANNEL_OF: Mapping[type, str] = {
    RevicomSms: "sms",
    RevicomVoiceCode: "voicecode",
    RevicomFlashCall: "flashcall",
    RevicomVk: "vk",
    SmartswitchSms: "sms",
    BsgRcs: "rcs",
}
#: Codes someone is waiting for: never behind a campaign, whatever call sent them.
_ALWAYS_TRANSACTIONAL: tuple[type, ...] = (RevicomVoiceCode, RevicomFlashCall)


@dataclass(frozen=True, slots=True)
class Route:
    account: str
    provider: str
    lane: str
    channel: str


def provider_of(message: object) -> str:
    return provider_of_model(type(message))


def provider_of_model(model: type) -> str:
    provider = PROVIDER_OF.get(model)
    if provider is None:
        raise InvalidMessage(
            [
                Problem(
                    "(message)",
                    model.__name__,
                    "must be a channel model: " + ", ".join(channel.__name__ for channel in PROVIDER_OF),
                )
            ]
        )
    return provider


def priority_class(message: object, *, requested: str | None, single: bool) -> str:
    """The caller's choice if given, else transactional for codes and single sends, bulk otherwise."""
    if requested is not None:
        if requested not in PRIORITY_CLASSES:
            raise InvalidMessage(
                [Problem("priority", requested, f"must be one of {', '.join(PRIORITY_CLASSES)}")]
            )
        return requested
    if single or isinstance(message, _ALWAYS_TRANSACTIONAL):
        return TRANSACTIONAL_QUEUE
    return BULK_QUEUE


class Router:
    """Resolves accounts once per name; cheap enough to call per message."""

    def __init__(self, accounts: Mapping[str, Account]) -> None:
        self._accounts = accounts
        # The providers file's order decides the default account of each provider.
        self._default_account: dict[str, str] = {}
        for name, account in accounts.items():
            self._default_account.setdefault(account.provider, name)

    def account(self, provider: str, requested: str | None) -> str:
        """The account for ``provider``: ``requested`` (checked) or the provider's first one."""
        if requested is None:
            name = self._default_account.get(provider)
            if name is None:
                raise InvalidMessage(
                    [Problem("account", None, f"the providers file has no {provider} account")]
                )
            return name
        account = self._accounts.get(requested)
        if account is None:
            raise InvalidMessage(
                [
                    Problem(
                        "account",
                        requested,
                        f"is not an account of the providers file ({', '.join(self._accounts)})",
                    )
                ]
            )
        if account.provider != provider:
            raise InvalidMessage(
                [
                    Problem(
                        "account",
                        requested,
                        f"is a {account.provider} account; this message is for {provider}",
                    )
                ]
            )
        return requested

    def route(self, message: object, *, account: str | None, priority: str | None, single: bool) -> Route:
        provider = provider_of(message)
        name = self.account(provider, account)
        return Route(
            name,
            provider,
            lane_name(name, priority_class(message, requested=priority, single=single)),
            CHANNEL_OF[type(message)],
        )

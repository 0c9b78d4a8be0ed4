"""The Smartswitch adapter: packs recipients into requests, sends them, reads the outcomes.

Credentials are read from the account (its environment variables) for each request and never kept
on the adapter, so neither its ``repr`` nor any error it raises can show them (see ``redaction``).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from dispatcher.accounts import SmartswitchAccount
from dispatcher.errors import ProviderError
from dispatcher.models.smartswitch import SmartswitchSms
from dispatcher.providers.base import DEFAULT_CONNECT_TIMEOUT_S, DEFAULT_READ_TIMEOUT_S, HttpTransport
from dispatcher.providers.outcomes import Outcome
from dispatcher.providers.smartswitch import request, response
from dispatcher.providers.smartswitch.redaction import install_log_filter, scrubbed

#: One recipient's query parameters, in order (``request.recipient_group``).
RecipientGroup = Sequence[tuple[str, str]]


class SmartswitchAdapter:
    """Sends ``SmartswitchSms`` batches for one Smartswitch account."""

    provider = response.PROVIDER

    def __init__(self, account: SmartswitchAccount, *, transport: HttpTransport | None = None) -> None:
        self.account = account
        self.transport = transport or HttpTransport(
            provider=self.provider,
            base_url=account.base_url,
            connect_timeout_s=account.connect_timeout_s or DEFAULT_CONNECT_TIMEOUT_S,
            read_timeout_s=account.read_timeout_s or DEFAULT_READ_TIMEOUT_S,
        )
        install_log_filter()

    def __repr__(self) -> str:
        return f"SmartswitchAdapter(account={self.account.name!r})"

    def pack(self, messages: Sequence[SmartswitchSms]) -> list[list[SmartswitchSms]]:
        """Split ``messages`` into requests that each fit the account's ``max_url_bytes``."""
        fixed_bytes = self._fixed_bytes(self.account.login(), self.account.password())
        return request.pack(messages, max_url_bytes=self.account.max_url_bytes, fixed_bytes=fixed_bytes)

    def send(self, messages: Sequence[SmartswitchSms]) -> list[Outcome]:
        """Send ``messages`` as ONE request; one outcome per message, in order.

        Raises ``ValueError`` for a batch the caller should not have built (empty, repeated
        ``request_id``, URL over the bound: use ``pack``), and the error tree for what the provider
        or the network did.
        """
        return self.send_wire([request.recipient_group(message) for message in messages])

    def send_wire(self, groups: Sequence[RecipientGroup]) -> list[Outcome]:
        """Send recipient groups (``request.recipient_group`` output) as ONE request, like ``send``."""
        login, password = self.account.login(), self.account.password()
        self._check_batch(groups, fixed_bytes=self._fixed_bytes(login, password))
        params: request.QueryParams = [("_login", login), ("_password", password)]
        for group in groups:
            params.extend((name, value) for name, value in group)
        try:
            reply = self.transport.request("POST", request.MESSAGE_PATH, params=params)
            return response.interpret(reply.status, reply.json(), [_recipient(group) for group in groups])
        except ProviderError as error:
            raise scrubbed(error, (login, password)) from None

    def fitting(self, groups: Sequence[RecipientGroup]) -> int:
        """How many of the leading ``groups`` fit one request URL (at least one: a group too long
        alone is refused by the model before it is stored)."""
        budget = self.account.max_url_bytes - self._fixed_bytes(self.account.login(), self.account.password())
        used = 0
        for count, group in enumerate(groups):
            used += _group_url_bytes(group)
            if used > budget:
                return max(count, 1)
        return len(groups)

    def close(self) -> None:
        self.transport.close()

    def _check_batch(self, groups: Sequence[RecipientGroup], *, fixed_bytes: int) -> None:
        if not groups:
            raise ValueError("a Smartswitch request needs at least one message")
        request_ids = [value for group in groups for name, value in group if name == "request_id"]
        if len(set(request_ids)) != len(request_ids):
            raise ValueError("request_id must be unique within a request (it maps response items back)")
        needed = fixed_bytes + sum(_group_url_bytes(group) for group in groups)
        if needed > self.account.max_url_bytes:
            raise ValueError(
                f"{len(groups)} messages need a {needed}-byte request URL, above max_url_bytes="
                f"{self.account.max_url_bytes}: split them with pack() first"
            )

    def _fixed_bytes(self, login: str, password: str) -> int:
        return request.fixed_url_bytes(
            self.transport.url(request.MESSAGE_PATH), login=login, password=password
        )


def _group_url_bytes(group: RecipientGroup) -> int:
    return 1 + len(urlencode(list(group)))


def _recipient(group: RecipientGroup) -> SmartswitchSms:
    """The two fields ``response.interpret`` pairs items by, without re-validating a stored group."""
    fields = dict(group)
    return SmartswitchSms.model_construct(
        destination_number=fields["destination_number"], request_id=fields.get("request_id")
    )

"""The intake rule of a webhook URL: an absolute http(s) URL, a deployment that signs webhooks
(``DISPATCHER_WEBHOOK_SECRET``), and a host that is not, nor resolves to, an address webhooks may
not reach (``addresses``). A name that does not resolve now is let through: the rule is applied
again at every POST, and a DNS hiccup must not refuse the message the webhook reports on."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from pydantic_core import PydanticCustomError

from dispatcher.errors import InvalidMessage, Problem
from dispatcher.models.common import http_url_rule
from dispatcher.settings import Settings
from dispatcher.webhooks.addresses import (
    AddressPolicy,
    Resolver,
    WebhookAddressRefused,
    check_webhook_host,
    parse_networks,
    resolve,
)

WEBHOOK_URL_MAX_CHARS = 2048
_URL_SHAPE = http_url_rule("webhook URL")
UNSIGNED_RULE = (
    "webhooks need a signing secret (DISPATCHER_WEBHOOK_SECRET): this deployment has none, and "
    "never sends them unsigned"
)


#: How long intake keeps what a host resolved to: a producer sending many messages with one webhook
#: URL asks DNS once a minute, not per message (the POST resolves afresh every time).
RESOLVED_TTL_S = 60.0
RESOLVED_MAX_HOSTS = 1024


@dataclass(slots=True)
class WebhookUrls:
    """Checks webhook URLs as this deployment's settings say."""

    signed: bool
    policy: AddressPolicy
    resolver: Resolver = resolve
    #: (host, port) -> (monotonic expiry, addresses): this process's short memory of DNS answers.
    _resolved: dict[tuple[str, int], tuple[float, list[str]]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookUrls:
        return cls(
            signed=settings.webhook_secret is not None,
            policy=AddressPolicy(parse_networks(settings.webhook_allow_networks)),
        )

    def check(self, url: str, *, field: str = "webhook_url") -> None:
        """Raise InvalidMessage naming ``field``, ``url`` and the rule it breaks."""
        if not self.signed:
            raise InvalidMessage([Problem(field, url, UNSIGNED_RULE)])
        if len(url) > WEBHOOK_URL_MAX_CHARS:
            raise InvalidMessage([Problem(field, url, f"must be at most {WEBHOOK_URL_MAX_CHARS} characters")])
        try:
            _URL_SHAPE(url)
        except PydanticCustomError as exc:
            raise InvalidMessage([Problem(field, url, exc.message())]) from None
        try:
            check_webhook_host(url, self.policy, self._resolve_or_none)
        except WebhookAddressRefused as exc:
            raise InvalidMessage([Problem(field, url, f"webhook URL refused: {exc}")]) from None

    def _resolve_or_none(self, host: str, port: int) -> list[str]:
        now = time.monotonic()
        cached = self._resolved.get((host, port))
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            addresses = list(self.resolver(host, port))
        except OSError:
            return []  # unresolvable now: the POST checks again
        if len(self._resolved) >= RESOLVED_MAX_HOSTS:
            self._resolved.clear()
        self._resolved[(host, port)] = (now + RESOLVED_TTL_S, addresses)
        return addresses

"""Every error the dispatcher raises, in one tree. The type alone decides what happens next.

::

    DispatcherError
    ├── ConfigurationError            settings or providers file unusable: fix the deployment
    ├── InvalidMessage                a producer's input breaks a rule: refuse it, store nothing
    │   ├── IdempotencyConflict           an idempotency key reused for a different request (409)
    │   └── InvalidCallback               a provider's callback body we cannot read: answer 4xx, log
    ├── StoreError                    the store (Redis) did not take an intake call; `accepted` names
    │   │                             the ids it did take before that (earlier chunks of the call)
    │   ├── StoreUnavailable              refused or unreachable: nothing else was stored; retry later
    │   │   └── StoreFull                     Redis is at maxmemory: nothing else was stored
    │   └── StoreOutcomeUnknown           the connection broke or timed out mid-write: `unknown` ids
    │                                     MAY be stored (check their status, or retry with the same
    │                                     idempotency keys; a retry without them may duplicate)
    └── ProviderError                 something went wrong talking to a provider
        ├── RetryableError            certainly NOT accepted by the provider: back off, send again
        │   ├── ConnectFailed             TCP/TLS connect failed or timed out
        │   ├── ProviderUnavailable       502/503/504: the provider did not process the request
        │   └── RateLimited               429 (throttling): wait `retry_after_s`, then send again
        ├── AmbiguousOutcome          MAY have been accepted: reconcile, never resend blindly
        │   ├── ResponseTimedOut          read timeout after the request was sent
        │   ├── ConnectionLost            connection dropped after the request was sent
        │   ├── UnexpectedResponse        a reply we cannot read (500, garbage, wrong shape)
        │   └── DuplicateSubmission       the provider already holds this idempotency key (BSG)
        ├── BatchRejected             the whole request is invalid (Revicom 4220): split the batch
        └── AccountError              credentials or permissions: pause the lane, alert; keep messages
            ├── NotAuthenticated          Revicom 4010
            ├── BadCredentials            Revicom 4012, Smartswitch `authentication`, BSG login refused
            └── AccessDenied              Revicom 4030 (token of the wrong type)

A message the provider refuses on its own (a per-item code, `Invalid msisdn` for one number in a
batch) is not an exception: it comes back as a ``Rejected`` outcome for that message, and the rest of
the batch goes on (see ``dispatcher.providers.outcomes``).

Provider adapters translate ``requests`` exceptions and raw status codes into this tree at their
boundary; nothing from ``requests`` leaves ``dispatcher.providers``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class DispatcherError(Exception):
    """Base of every error the dispatcher raises on purpose."""


class ConfigurationError(DispatcherError):
    """Settings, the providers file or an environment variable it names is missing or invalid."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken rule: which field, what value it had, and the rule it broke."""

    field: str
    value: Any
    rule: str

    def __str__(self) -> str:
        return f"{self.field}={self.value!r}: {self.rule}"


class InvalidMessage(DispatcherError, ValueError):
    """A message (or request) broke one or more rules; nothing of it was stored or sent."""

    def __init__(self, problems: Sequence[Problem], *, summary: str | None = None) -> None:
        """``summary``: what the problems add up to, when they are more than are listed (a
        campaign's bad rows: ``3 of 1000 recipients are invalid; nothing was stored``)."""
        self.problems = tuple(problems)
        self.summary = summary
        listed = "; ".join(str(problem) for problem in self.problems)
        super().__init__(f"{summary}: {listed}" if summary else listed)


class IdempotencyConflict(InvalidMessage):
    """An idempotency key (or a campaign id) already stands for a different request: nothing of the
    conflicting messages was stored. ``existing``: the id the key stands for; ``accepted``: ids an
    earlier chunk of the same call stored (normally none)."""

    def __init__(self, problems: Sequence[Problem], *, existing: str, accepted: Sequence[str] = ()) -> None:
        super().__init__(problems)
        self.existing = existing
        self.accepted = tuple(accepted)


class InvalidCallback(InvalidMessage):
    """A delivery callback's body is malformed; nothing is changed by it."""


class StoreError(DispatcherError):
    """An intake call failed in the store. ``accepted``: ids stored before the failure (they will
    go out); ``unknown``: ids whose write may or may not have been applied; ``campaign``: the
    campaign the call was creating, if any. Everything else of the call was not stored."""

    def __init__(
        self,
        message: str,
        *,
        accepted: Sequence[str] = (),
        unknown: Sequence[str] = (),
        campaign: str | None = None,
    ) -> None:
        self.accepted = tuple(accepted)
        self.unknown = tuple(unknown)
        self.campaign = campaign
        super().__init__(message)


class StoreUnavailable(StoreError):
    """Redis refused the write or could not be reached before it: it was not applied."""


class StoreFull(StoreUnavailable):
    """Redis is at its ``maxmemory``: it refused the write (nothing of it was applied)."""


class StoreOutcomeUnknown(StoreError):
    """The connection broke or timed out while a write was in flight: ``unknown`` may be stored."""


class ProviderError(DispatcherError):
    """Talking to a provider failed. ``provider`` names the provider, never a credential."""

    def __init__(self, message: str, *, provider: str = "") -> None:
        self.provider = provider
        super().__init__(f"{provider}: {message}" if provider else message)


class RetryableError(ProviderError):
    """The provider certainly did not accept the request: sending it again cannot duplicate."""

    #: The provider's own hint (``Retry-After``), when it gave one.
    retry_after_s: float | None = None


class ConnectFailed(RetryableError):
    """The connection could not be opened (refused, DNS, TLS, connect timeout)."""


class ProviderUnavailable(RetryableError):
    """502, 503 or 504: a gateway or the provider said it did not process the request."""


class RateLimited(RetryableError):
    """429 throttling. Every worker must hold off the account for ``retry_after_s``."""

    def __init__(self, message: str, *, provider: str = "", retry_after_s: float | None) -> None:
        super().__init__(message, provider=provider)
        self.retry_after_s = retry_after_s


class AmbiguousOutcome(ProviderError):
    """The request may have been accepted. Reconcile with the provider before any resend."""


class ResponseTimedOut(AmbiguousOutcome):
    """The request went out but no response arrived within the read timeout."""


class ConnectionLost(AmbiguousOutcome):
    """The connection broke after the request was sent, before a full response."""


class UnexpectedResponse(AmbiguousOutcome):
    """A response we cannot interpret (HTTP 500, malformed body, an item count that does not match)."""


class DuplicateSubmission(AmbiguousOutcome):
    """The provider already holds a message with this idempotency key: look it up, do not resend."""


class BatchRejected(ProviderError):
    """The provider refused the whole request as invalid (Revicom 4220).

    ``code`` and ``reason`` are the provider's. A batch of one that gets this is a rejected message;
    a larger batch is split to find the items that cause it.
    """

    def __init__(self, message: str, *, provider: str = "", code: str, reason: str) -> None:
        super().__init__(message, provider=provider)
        self.code = code
        self.reason = reason


class AccountError(ProviderError):
    """The account cannot send: pause its lanes and alert. Messages stay queued."""

    def __init__(self, message: str, *, provider: str = "", code: str = "") -> None:
        super().__init__(message, provider=provider)
        self.code = code


class NotAuthenticated(AccountError):
    """No usable credentials were presented (Revicom 4010)."""


class BadCredentials(AccountError):
    """The credentials were refused (Revicom 4012, Smartswitch ``authentication``, BSG login/401)."""


class AccessDenied(AccountError):
    """The credentials are valid but not for this operation (Revicom 4030, wrong token type)."""

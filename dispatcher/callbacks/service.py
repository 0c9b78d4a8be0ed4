"""One delivery callback, from its body to our records: parse with the provider's parser, map each
report to a move, apply them all in one store call (parking those whose provider id is not
recorded yet) and send the SMS fallbacks that failure reports call for."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from dispatcher.accounts import Account
from dispatcher.callbacks.fallback import send_fallbacks
from dispatcher.callbacks.mapping import state_report, triggers_fallback
from dispatcher.errors import InvalidCallback, Problem
from dispatcher.metrics.events import CALLBACK_REPORTS
from dispatcher.providers import bsg_callbacks, revicom_callbacks
from dispatcher.providers.outcomes import DeliveryReport
from dispatcher.providers.smartswitch import receipts
from dispatcher.settings import Settings
from dispatcher.store import Store
from dispatcher.taskqueue import TaskSender

log = logging.getLogger(__name__)

#: Each provider's parser: (body, content type) -> reports; raises InvalidCallback.
PARSERS: Mapping[str, Callable[[bytes, str], list[DeliveryReport]]] = {
    "revicom": lambda body, _content_type: revicom_callbacks.parse_callback(body),
    "bsg": lambda body, _content_type: [bsg_callbacks.parse_callback(body)],
    "smartswitch": lambda body, content_type: [receipts.parse_receipt(body, content_type)],
}


class UnknownRoute(LookupError):
    """The provider or account in the callback URL is not ours."""


@dataclass(frozen=True, slots=True)
class CallbackOutcome:
    reports: int
    moved: int
    parked: int
    fallbacks: int


class CallbackService:
    def __init__(
        self, store: Store, accounts: Mapping[str, Account], settings: Settings, tasks: TaskSender
    ) -> None:
        self.store = store
        self.settings = settings
        self.tasks = tasks
        self._accounts_of: dict[str, list[str]] = {}
        for name, account in accounts.items():
            self._accounts_of.setdefault(account.provider, []).append(name)

    def accounts_for(self, provider: str, account: str | None) -> list[str]:
        """The accounts whose provider-id indexes a callback searches (the URL may name one)."""
        names = self._accounts_of.get(provider) if provider in PARSERS else None
        if not names:
            raise UnknownRoute(f"no {provider!r} accounts")
        if account is None:
            return names
        if account not in names:
            raise UnknownRoute(f"{account!r} is not a {provider} account")
        return [account]

    def handle(
        self, provider: str, body: bytes, content_type: str, *, account: str | None = None
    ) -> CallbackOutcome:
        """Apply one callback body; raises UnknownRoute or InvalidCallback (then nothing changed)."""
        accounts = self.accounts_for(provider, account)
        try:
            reports = PARSERS[provider](body, content_type)
        except InvalidCallback:
            CALLBACK_REPORTS.labels(provider, "invalid").inc()
            raise
        applied = self.store.apply_reports(
            provider,
            accounts,
            [state_report(report) for report in reports],
            park_for_s=self.settings.early_callback_ttl_s,
        )
        failed_ids = [
            result.message_id
            for report, result in zip(reports, applied, strict=True)
            if result.message_id is not None and triggers_fallback(report)
        ]
        fallbacks = send_fallbacks(self.store, self.tasks, self.settings, failed_ids) if failed_ids else 0
        outcome = CallbackOutcome(
            reports=len(reports),
            moved=sum(result.moved for result in applied),
            parked=sum(result.message_id is None for result in applied),
            fallbacks=fallbacks,
        )
        for result, count in (
            ("moved", outcome.moved),
            ("parked", outcome.parked),
            ("recorded", outcome.reports - outcome.moved - outcome.parked),
        ):
            CALLBACK_REPORTS.labels(provider, result).inc(count)
        log.info("callback %s: %s", provider, outcome)
        return outcome


def describe_problems(problems: Sequence[Problem]) -> list[str]:
    """What was wrong, by field and rule: values stay out (they may hold phone numbers)."""
    return [f"{problem.field}: {problem.rule}" for problem in problems[:20]]


__all__ = ["CallbackOutcome", "CallbackService", "InvalidCallback", "UnknownRoute", "describe_problems"]

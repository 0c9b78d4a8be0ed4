"""``Dispatcher``: the producer API. Validates, stores and routes messages; returns ids at once.

Every call validates all of its input before it stores anything, stores in chunks of
``INTAKE_CHUNK`` (one Lua call each), then kicks the lanes it filled so a worker picks them up.
Campaigns stream their recipients chunk by chunk and never hold them all in memory.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from celery import Celery

from dispatcher.accounts import Account, RevicomAccount, load_accounts
from dispatcher.errors import InvalidMessage, Problem
from dispatcher.producer.campaigns import CampaignIntake
from dispatcher.producer.ids import new_message_ids
from dispatcher.producer.intake import prepare
from dispatcher.producer.routing import Message, Router
from dispatcher.producer.status import MessageStatus
from dispatcher.producer.templates import MessageTemplate, Recipients
from dispatcher.providers.revicom import RevicomAdapter
from dispatcher.providers.revicom_wire import StopResult
from dispatcher.settings import Settings, load_settings
from dispatcher.store import INTAKE_CHUNK, NewMessage, Store
from dispatcher.store.states import SUBMITTED
from dispatcher.taskqueue import TaskSender, celery_config, kick

log = logging.getLogger(__name__)


def celery_client(settings: Settings) -> Celery:
    """A Celery app that only sends tasks, configured like the workers (never imports ``workers``)."""
    app = Celery("dispatcher-producer", set_as_current=False)
    app.conf.update(celery_config(settings))
    return app


class Dispatcher:
    """Send messages, follow them, cancel them. Thread-safe: share one per process."""

    def __init__(
        self,
        store: Store,
        accounts: Mapping[str, Account],
        settings: Settings,
        *,
        tasks: TaskSender | None = None,
    ) -> None:
        self.store = store
        self.accounts = accounts
        self.settings = settings
        self.tasks = tasks if tasks is not None else celery_client(settings)
        self.router = Router(accounts)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Dispatcher:
        settings = settings or load_settings()
        return cls(Store.from_settings(settings), load_accounts(settings), settings)

    # --- sending ---

    def send(
        self,
        message: Message,
        *,
        account: str | None = None,
        priority: str | None = None,
        idempotency_key: str | None = None,
        deadline_s: float | None = None,
    ) -> str:
        """Accept one message (transactional unless ``priority`` says otherwise); returns its id."""
        now = time.time()
        records = prepare(
            [message],
            router=self.router,
            accounts=self.accounts,
            account=account,
            priority=priority,
            single=True,
            deadline=now + self._deadline_s(deadline_s),
            now=now,
            idempotency_keys=[idempotency_key],
        )
        return self._store(records, now=now)[0]

    def send_many(
        self,
        messages: Sequence[Message],
        *,
        account: str | None = None,
        priority: str | None = None,
        idempotency_keys: Sequence[str | None] | None = None,
        deadline_s: float | None = None,
    ) -> list[str]:
        """Accept messages (bulk unless ``priority`` says otherwise); ids in order.

        All of them are checked first: one broken message raises InvalidMessage (naming each by
        index) and none is stored. For a known idempotency key the original id comes back.
        """
        now = time.time()
        records = prepare(
            messages,
            router=self.router,
            accounts=self.accounts,
            account=account,
            priority=priority,
            single=False,
            deadline=now + self._deadline_s(deadline_s),
            now=now,
            idempotency_keys=idempotency_keys,
        )
        return self._store(records, now=now)

    def _store(self, records: Sequence[NewMessage], *, now: float) -> list[str]:
        ids: list[str] = []
        for start in range(0, len(records), INTAKE_CHUNK):
            chunk = records[start : start + INTAKE_CHUNK]
            ids += self.store.add_messages(chunk, now=now)
            # Kick per chunk: a large call starts sending while the rest is still being stored.
            self._kick({record.lane for record in chunk})
        return ids

    def _kick(self, lanes: Iterable[str]) -> None:
        for lane in lanes:
            kick(self.store, self.tasks, lane, self.settings)

    def _deadline_s(self, deadline_s: float | None) -> float:
        if deadline_s is None:
            return self.settings.default_deadline_s
        if not deadline_s > 0:
            raise InvalidMessage([Problem("deadline_s", deadline_s, "must be a positive number of seconds")])
        return deadline_s

    # --- following and cancelling ---

    def status(self, message_id: str) -> MessageStatus | None:
        """The message's state, history and provider facts; None for an unknown id."""
        record = self.store.get(message_id)
        return MessageStatus.from_record(record) if record is not None else None

    def cancel(self, message_id: str) -> str:
        """Cancel a message that has not gone out; returns its state after ("" for an unknown id).

        A Revicom message already submitted with a send time (``localSendTime``) is asked to stop at
        the provider; it becomes ``cancelled`` when the provider confirms it will not send it.
        """
        state = self.store.cancel(message_id, now=time.time())
        if state == SUBMITTED:
            return self._stop_at_provider(message_id) or state
        return state

    def _stop_at_provider(self, message_id: str) -> str | None:
        record = self.store.get(message_id)
        if record is None or record.provider_message_id is None:
            return None
        account = self.accounts.get(record.lane.rpartition(":")[0])
        if not isinstance(account, RevicomAccount) or "localSendTime" not in orjson.loads(record.wire):
            return None
        adapter = RevicomAdapter(account)
        try:
            result = adapter.stop([record.provider_message_id]).get(record.provider_message_id)
        finally:
            adapter.close()
        if result is not StopResult.WILL_STOP:
            return None
        self.store.confirm_stopped(message_id, now=time.time(), reason="cancel: stopped at the provider")
        current = self.store.get(message_id)
        return current.state if current is not None else None

    # --- campaigns ---

    def campaign(
        self,
        template: MessageTemplate,
        recipients: Recipients,
        *,
        account: str | None = None,
        campaign_id: str | None = None,
        priority: str | None = None,
        deadline_s: float | None = None,
    ) -> str:
        """Send ``template`` to every recipient (numbers, dicts or a CSV path); returns the campaign id.

        Recipients are read in chunks of ``INTAKE_CHUNK`` (constant memory), all checked before
        any is stored: a broken recipient raises InvalidMessage naming its row (0-based) and
        nothing of the campaign is stored.
        """
        now = time.time()
        intake = CampaignIntake(
            self,
            template,
            campaign_id=campaign_id or new_message_ids(1, now=now)[0],
            account=account,
            priority=priority,
            deadline_s=self._deadline_s(deadline_s),
        )
        return intake.run(recipients)

    def campaign_status(self, campaign_id: str) -> dict[str, int]:
        """Messages per state, plus ``total``."""
        return self.store.campaign_counts(campaign_id)

    def cancel_campaign(self, campaign_id: str) -> dict[str, int]:
        """Cancel every message of the campaign not yet gone out; the counts after."""
        now = time.time()
        for message_id in self.store.campaign_message_ids(campaign_id):
            self.store.cancel(message_id, now=now)
        return self.store.campaign_counts(campaign_id)

    def close(self) -> None:
        close = getattr(self.tasks, "close", None)
        if close is not None:
            close()
        self.store.close()

    def __enter__(self) -> Dispatcher:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

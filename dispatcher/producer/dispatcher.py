"""``Dispatcher``: the producer API. Validates, stores and routes messages; returns ids at once.

Every call validates all of its input before it stores anything, stores in chunks of
``INTAKE_CHUNK`` (one Lua call each), then kicks the lanes it filled so a worker picks them up.
Campaigns stream their recipients chunk by chunk and never hold them all in memory.

An answer is the truth: ids returned are stored and will go out; a call that raises
``StoreError`` says which ids it stored (``accepted``) and which it may have (``unknown``), and
stored nothing else. A kick that fails after the store is logged and left to beat. Times are Redis':
the store sets each message's deadline from its time to live and compares send times with its own
clock; a call reads Redis' clock itself only to find the next opening of a sending window. (This
process's clock stamps only the ids' time part, which orders ids and is never compared.)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import redis
from celery import Celery

from dispatcher.accounts import Account, load_accounts
from dispatcher.callbacks.urls import callback_url
from dispatcher.errors import IdempotencyConflict, InvalidMessage, Problem
from dispatcher.models.bsg import BsgRcs
from dispatcher.producer.campaign_calls import CampaignCalls
from dispatcher.producer.extras import Delivery, ScheduleLimits, SmsFallback, plan_extras, with_native_window
from dispatcher.producer.fallback import fallback_sms
from dispatcher.producer.intake import call_options, prepare
from dispatcher.producer.provider_stop import stop_at_provider
from dispatcher.producer.routing import Message, Router
from dispatcher.producer.status import MessageStatus
from dispatcher.producer.store_errors import call_clock, intake_failure
from dispatcher.producer.windows import SendingWindow
from dispatcher.settings import Settings, load_settings
from dispatcher.store import INTAKE_CHUNK, NewMessage, Store
from dispatcher.store.intake import Extras, StoredIds
from dispatcher.store.states import CANCELLED, SUBMITTED
from dispatcher.taskqueue import TRANSACTIONAL_QUEUE, TaskSender, celery_config, try_kick
from dispatcher.webhooks.intake import WebhookUrls

log = logging.getLogger(__name__)

#: After a failed kick, intake leaves kicking to beat this long.
KICK_BACKOFF_S = 5.0
#: Providers that take a delivery callback URL per message (Smartswitch's is per account).
CALLBACK_URL_PROVIDERS = frozenset({"revicom", "bsg"})


def celery_client(settings: Settings) -> Celery:
    """A Celery app that only sends tasks, configured like the workers (never imports ``workers``)."""
    app = Celery("dispatcher-producer", set_as_current=False)
    app.conf.update(celery_config(settings))
    return app


class Dispatcher(CampaignCalls):
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
        #: account -> the delivery callback URL its wire items carry (only when callbacks are enabled)
        self.webhook_urls = WebhookUrls.from_settings(self.settings)
        self.callback_urls = {
            name: url
            for name, account in accounts.items()
            if account.provider in CALLBACK_URL_PROVIDERS
            and (url := callback_url(settings, account.provider, name)) is not None
        }
        #: Until when kicks are not tried (monotonic s): set when one failed, so that intake stays
        #: fast while the broker is away (each attempt costs its publish retries).
        self._kicks_resume_at = 0.0

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
        send_at: datetime | float | None = None,
        window: SendingWindow | None = None,
        webhook_url: str | None = None,
        fallback: SmsFallback | None = None,
    ) -> str:
        """Accept one message (transactional unless ``priority`` says otherwise); returns its id.

        ``send_at`` (aware datetime or epoch s): not sent before. ``window``: local hours/days of
        the subscriber (Revicom applies it; other messages wait for it). ``webhook_url``: status
        changes are POSTed there. ``fallback``: an RCS message's SMS stand-in. ``idempotency_key``:
        sent again with the same message and options, the key gives back the first call's id and
        stores nothing; with anything different, it raises IdempotencyConflict.
        """
        return self.send_with_receipt(
            message,
            account=account,
            priority=priority,
            idempotency_key=idempotency_key,
            deadline_s=deadline_s,
            send_at=send_at,
            window=window,
            webhook_url=webhook_url,
            fallback=fallback,
        )[0]

    def send_with_receipt(
        self,
        message: Message,
        *,
        account: str | None = None,
        priority: str | None = None,
        idempotency_key: str | None = None,
        deadline_s: float | None = None,
        send_at: datetime | float | None = None,
        window: SendingWindow | None = None,
        webhook_url: str | None = None,
        fallback: SmsFallback | None = None,
    ) -> StoredIds:
        """``send``, answering ``[id]`` with ``replayed`` telling whether the idempotency key gave
        back an earlier call's message (what the HTTP API's ``Idempotent-Replayed`` header says)."""
        delivery = self._delivery(send_at, window, webhook_url)
        message = with_native_window(message, window)
        records = prepare(
            [message],
            router=self.router,
            accounts=self.accounts,
            account=account,
            priority=priority,
            single=True,
            ttl_s=self._deadline_s(deadline_s),
            now=time.time(),
            idempotency_keys=[idempotency_key],
            callback_urls=self.callback_urls,
            options=call_options(
                account=account,
                priority=priority,
                deadline_s=deadline_s,
                send_at=delivery.send_at,
                window=window,
                webhook_url=webhook_url,
                fallback=fallback,
            ),
        )
        fallbacks = None
        if fallback is not None:
            fallbacks = {records[0].id: (self._fallback_sms(message, fallback), fallback.deadline_s)}
        extras = plan_extras([message], records, delivery, fallbacks=fallbacks)
        return self._store(records, extras=extras)

    def send_many(
        self,
        messages: Sequence[Message],
        *,
        account: str | None = None,
        priority: str | None = None,
        idempotency_keys: Sequence[str | None] | None = None,
        deadline_s: float | None = None,
        send_at: datetime | float | None = None,
        window: SendingWindow | None = None,
        webhook_url: str | None = None,
    ) -> StoredIds:
        """Accept messages (bulk unless ``priority`` says otherwise); ids in order (``replayed``
        tells which came back for a known idempotency key).

        All of them are checked first: one broken message raises InvalidMessage (naming each by
        index) and none is stored. For a known idempotency key the original id comes back (the
        same message and options) or IdempotencyConflict is raised (anything different).
        ``send_at``, ``window``, ``webhook_url``: as for ``send``, for every message.
        """
        delivery = self._delivery(send_at, window, webhook_url)
        messages = [with_native_window(message, window) for message in messages]
        records = prepare(
            messages,
            router=self.router,
            accounts=self.accounts,
            account=account,
            priority=priority,
            single=False,
            ttl_s=self._deadline_s(deadline_s),
            now=time.time(),
            idempotency_keys=idempotency_keys,
            callback_urls=self.callback_urls,
            options=call_options(
                account=account,
                priority=priority,
                deadline_s=deadline_s,
                send_at=delivery.send_at,
                window=window,
                webhook_url=webhook_url,
            ),
        )
        extras = plan_extras(messages, records, delivery)
        return self._store(records, extras=extras)

    def _store(self, records: Sequence[NewMessage], *, extras: Mapping[str, Extras]) -> StoredIds:
        ids = StoredIds()
        for start in range(0, len(records), INTAKE_CHUNK):
            chunk = records[start : start + INTAKE_CHUNK]
            try:
                ids.extend_with(self.store.add_messages(chunk, extras=extras))
            except IdempotencyConflict as exc:
                raise IdempotencyConflict(exc.problems, existing=exc.existing, accepted=ids) from None
            except redis.RedisError as exc:
                raise intake_failure(exc, accepted=ids, attempted=[record.id for record in chunk]) from exc
            # Kick per chunk: a large call starts sending while the rest is still being stored. Which
            # lanes got messages now is the store's decision; this clock only spares kicking lanes
            # whose messages all wait (beat kicks every lane with waiting messages anyway).
            soon = time.time() + 1
            self._kick(
                {
                    record.lane
                    for record in chunk
                    if record.id not in extras or (extras[record.id].release_at or 0) < soon
                }
            )
        return ids

    def _delivery(
        self, send_at: datetime | float | None, window: SendingWindow | None, webhook_url: str | None
    ) -> Delivery:
        if webhook_url is not None:
            self.webhook_urls.check(webhook_url)
        return Delivery.checked(
            send_at=send_at,
            window=window,
            webhook_url=webhook_url,
            default_webhook_url=self.settings.webhook_url,
            limits=ScheduleLimits(
                ahead_s=self.settings.max_schedule_ahead_s,
                past_tolerance_s=self.settings.send_at_past_tolerance_s,
            ),
            clock=lambda: call_clock(self.store),
        )

    def _fallback_sms(self, message: Message, fallback: SmsFallback) -> NewMessage:
        """The SMS stand-in of an RCS message, checked and encoded now (its id fixed now, too); it
        gets the default time to live from when it is created."""
        if not isinstance(message, BsgRcs):
            raise InvalidMessage(
                [Problem("fallback", type(message).__name__, "only RCS messages fall back to SMS")]
            )
        return prepare(
            [fallback_sms(message, fallback, self.accounts)],
            router=self.router,
            accounts=self.accounts,
            account=fallback.account,
            priority=TRANSACTIONAL_QUEUE,
            single=True,
            ttl_s=self.settings.default_deadline_s,
            now=time.time(),
            callback_urls=self.callback_urls,
        )[0]

    def _kick(self, lanes: Iterable[str]) -> None:
        """Start the lanes of messages just stored. A failure is left to beat (they are stored, and
        beat kicks every lane with waiting messages each second), and no kick is tried for
        ``KICK_BACKOFF_S`` after it."""
        if time.monotonic() < self._kicks_resume_at:
            return
        for lane in lanes:
            if try_kick(self.store, self.tasks, lane, self.settings) == "failed":
                self._kicks_resume_at = time.monotonic() + KICK_BACKOFF_S
                return

    def _deadline_s(self, deadline_s: float | None) -> float:
        if deadline_s is None:
            return self.settings.default_deadline_s
        if not deadline_s > 0:
            raise InvalidMessage([Problem("deadline_s", deadline_s, "must be a positive number of seconds")])
        return deadline_s

    # --- following and cancelling ---

    def status(self, message_id: str) -> MessageStatus | None:
        """The message's state, history and provider facts (and its fallback links); None for an
        unknown id."""
        record = self.store.get(message_id)
        if record is None:
            return None
        fallback_id, fallback_of = self.store.fallback_links(message_id)
        return MessageStatus.from_record(record, fallback_id=fallback_id, fallback_of=fallback_of)

    def cancel(self, message_id: str) -> str:
        """Cancel a message that has not gone out; returns its state after ("" for an unknown id).

        A Revicom message already submitted with a send time (``localSendTime``) is asked to stop at
        the provider; it becomes ``cancelled`` when the provider confirms it will not send it.
        """
        state = self.store.cancel(message_id)
        if state == SUBMITTED and stop_at_provider(self.store, self.accounts, [message_id]):
            return CANCELLED
        return state

    def close(self) -> None:
        close = getattr(self.tasks, "close", None)
        if close is not None:
            close()
        self.store.close()

    def __enter__(self) -> Dispatcher:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

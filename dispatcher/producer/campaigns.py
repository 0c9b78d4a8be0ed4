"""Campaign intake: render the template per recipient, check and encode, store, commit, release.

All or nothing, in constant memory, without reading the recipients twice: chunks are checked and
encoded in this thread while a writer thread stores the previous chunk *held* — in Redis, counted
in the campaign, but out of the lane, so nothing is sent yet. When every recipient is valid the
campaign is *committed* (one atomic step: from then on it is accepted) and released into its lane;
a bad recipient, or a store failure before the commit, discards everything stored so far instead.

Failures say what happened: before the commit nothing of the campaign is accepted (a producer that
dies leaves it held, and beat discards it after ``Settings.held_campaign_timeout_s``); after it the
campaign goes out in full, whatever fails (beat finishes a release its producer could not); a commit
whose answer was lost is ``StoreOutcomeUnknown``: ``Dispatcher.campaign_accepted`` tells.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from itertools import islice
from types import TracebackType
from typing import TYPE_CHECKING, TypeAlias

import redis

from dispatcher.errors import InvalidMessage, Problem, StoreOutcomeUnknown, StoreUnavailable
from dispatcher.pipeline.release import release_committed
from dispatcher.producer.extras import Delivery, plan_extras, with_native_window
from dispatcher.producer.intake import prepare
from dispatcher.producer.routing import Message, priority_class, provider_of_model
from dispatcher.producer.store_errors import campaign_not_accepted, write_may_be_applied
from dispatcher.producer.templates import MessageTemplate, Recipient, Recipients, recipient_rows
from dispatcher.store import INTAKE_CHUNK, NewMessage, Store
from dispatcher.store.intake import Extras
from dispatcher.taskqueue import lane_name

if TYPE_CHECKING:
    from dispatcher.producer.dispatcher import Dispatcher

log = logging.getLogger(__name__)

#: Chunks checked ahead of the writer: bounds memory while keeping both threads busy.
WRITE_AHEAD_CHUNKS = 2


#: One chunk of records and their extras (send times, webhooks).
_Chunk: TypeAlias = tuple[Sequence[NewMessage], Mapping[str, Extras]]


class _HeldWriter:
    """Stores chunks held, in a background thread, while the caller checks the next ones."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._chunks: queue.Queue[_Chunk | None] = queue.Queue(WRITE_AHEAD_CHUNKS)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="campaign-writer", daemon=True)

    def __enter__(self) -> _HeldWriter:
        self._thread.start()
        return self

    def write(self, chunk: _Chunk) -> None:
        self._raise_if_failed()
        self._chunks.put(chunk)

    def _run(self) -> None:
        while (chunk := self._chunks.get()) is not None:
            if self._error is None:
                try:
                    records, extras = chunk
                    self._store.add_messages(records, hold=True, extras=extras)
                except BaseException as exc:  # handed to the caller's thread by _raise_if_failed
                    self._error = exc

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._chunks.put(None)
        self._thread.join()
        if kind is None:
            self._raise_if_failed()


class CampaignIntake:
    """One ``Dispatcher.campaign`` call."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        template: MessageTemplate,
        *,
        campaign_id: str,
        account: str | None,
        priority: str | None,
        deadline_s: float,
        delivery: Delivery,
    ) -> None:
        self.dispatcher = dispatcher
        self.delivery = delivery
        self.template = template
        self.campaign_id = campaign_id
        self.priority = priority
        self.account = dispatcher.router.account(provider_of_model(template.model), account)
        self.ttl_s = deadline_s
        self.lane = lane_name(self.account, priority_class(None, requested=priority, single=False))
        self.provider = provider_of_model(template.model)

    def run(self, recipients: Recipients) -> str:
        store = self.dispatcher.store
        rows = recipient_rows(recipients)
        first = self._prepare(list(islice(rows, INTAKE_CHUNK)), first_row=0)
        # A template's lane is fixed by its model type: a voice-code campaign is transactional.
        self.lane = first[0][0].lane if first[0] else self.lane
        try:
            store.create_campaign(self.campaign_id, account=self.account, lane=self.lane, held=True)
            with _HeldWriter(store) as writer:
                self._check_and_store(first, rows, writer)
        except BaseException as exc:
            self._discard()
            if isinstance(exc, redis.RedisError):
                raise campaign_not_accepted(exc, self.campaign_id) from exc
            raise
        self._commit()
        self._release()
        return self.campaign_id

    def _discard(self) -> None:
        """Remove what was stored of a campaign that will not be committed; if Redis cannot be
        reached now, beat discards it once it is ``held_campaign_timeout_s`` old. Either way none
        of it is ever sent: it was never committed."""
        try:
            self.dispatcher.store.discard_campaign(self.campaign_id)
        except redis.RedisError as exc:
            log.warning(
                "campaign %s not committed; discarding it failed (%s): beat will",
                self.campaign_id,
                type(exc).__name__,
            )

    def _commit(self) -> None:
        try:
            committed = self.dispatcher.store.commit_campaign(self.campaign_id)
        except redis.RedisError as exc:
            if write_may_be_applied(exc):
                raise StoreOutcomeUnknown(
                    f"campaign {self.campaign_id}: the store did not answer the commit "
                    f"({type(exc).__name__}); Dispatcher.campaign_accepted tells whether it was "
                    "accepted (then it goes out in full)",
                    campaign=self.campaign_id,
                ) from exc
            self._discard()
            raise campaign_not_accepted(exc, self.campaign_id) from exc
        if not committed:
            raise StoreUnavailable(
                f"campaign {self.campaign_id}: intake took longer than held_campaign_timeout_s and beat "
                "discarded it; nothing of it is sent",
                campaign=self.campaign_id,
            )

    def _release(self) -> None:
        """The campaign is accepted: release it; whatever fails now, beat finishes the release."""
        dispatcher = self.dispatcher
        try:
            release_committed(
                dispatcher.store, dispatcher.tasks, dispatcher.settings, self.campaign_id, self.lane
            )
        except redis.RedisError as exc:
            log.warning(
                "campaign %s accepted; its release was interrupted (%s): beat finishes it",
                self.campaign_id,
                type(exc).__name__,
            )

    def _check_and_store(self, first: _Chunk, rows: Iterator[Recipient], writer: _HeldWriter) -> None:
        total = 0
        chunk = first
        while chunk[0]:
            writer.write(chunk)
            total += len(chunk[0])
            chunk = self._prepare(list(islice(rows, INTAKE_CHUNK)), first_row=total)

    def _prepare(self, chunk: list[Recipient], *, first_row: int) -> _Chunk:
        if not chunk:
            return [], {}
        messages = [
            with_native_window(message, self.delivery.window) for message in self._messages(chunk, first_row)
        ]
        records = prepare(
            messages,
            router=self.dispatcher.router,
            accounts=self.dispatcher.accounts,
            account=self.account,
            priority=self.priority,
            single=False,
            ttl_s=self.ttl_s,
            now=time.time(),
            campaign=self.campaign_id,
            field_prefix="recipients",
            callback_urls=self.dispatcher.callback_urls,
        )
        return records, plan_extras(messages, records, self.delivery)

    def _messages(self, chunk: list[Recipient], first_row: int) -> list[Message]:
        messages: list[Message] = []
        problems: list[Problem] = []
        for offset, recipient in enumerate(chunk):
            try:
                messages.append(self.template.render(recipient))
            except InvalidMessage as exc:
                row = first_row + offset
                problems += [Problem(f"recipients[{row}].{p.field}", p.value, p.rule) for p in exc.problems]
        if problems:
            raise InvalidMessage(problems)
        return messages

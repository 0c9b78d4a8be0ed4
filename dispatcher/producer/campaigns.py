"""Campaign intake: render the template per recipient, check and encode, store, release, kick.

All or nothing, in constant memory, without reading the recipients twice: chunks are checked and
encoded in this thread while a writer thread stores the previous chunk *held* — in Redis, counted
in the campaign, but out of the lane, so nothing is sent yet. When every recipient is valid the
campaign is released into its lane; a bad recipient discards everything stored so far instead.
(A producer that dies mid-intake leaves a held campaign behind; beat discards it after
``Settings.held_campaign_timeout_s``.)
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from itertools import islice
from types import TracebackType
from typing import TYPE_CHECKING, TypeAlias

from dispatcher.errors import InvalidMessage, Problem
from dispatcher.producer.extras import Delivery, plan_extras, with_native_window
from dispatcher.producer.intake import prepare
from dispatcher.producer.routing import Message, priority_class, provider_of_model
from dispatcher.producer.templates import MessageTemplate, Recipient, Recipients, recipient_rows
from dispatcher.store import INTAKE_CHUNK, NewMessage, Store
from dispatcher.store.schedule import Extras
from dispatcher.taskqueue import lane_name

if TYPE_CHECKING:
    from dispatcher.producer.dispatcher import Dispatcher

#: Ids moved from a released campaign to its lane per Redis call (a few ms of Redis time each).
RELEASE_CHUNK = 10_000
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
                    if extras:
                        self._store.add_with_extras(records, extras, now=time.time(), hold=True)
                    else:
                        self._store.add_messages(records, now=time.time(), hold=True)
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
        self.deadline = time.time() + deadline_s
        self.lane = lane_name(self.account, priority_class(None, requested=priority, single=False))
        self.provider = provider_of_model(template.model)

    def run(self, recipients: Recipients) -> str:
        store = self.dispatcher.store
        rows = recipient_rows(recipients)
        first = self._prepare(list(islice(rows, INTAKE_CHUNK)), first_row=0)
        # A template's lane is fixed by its model type: a voice-code campaign is transactional.
        self.lane = first[0][0].lane if first[0] else self.lane
        store.create_campaign(
            self.campaign_id, account=self.account, lane=self.lane, now=time.time(), held=True
        )
        try:
            with _HeldWriter(store) as writer:
                total = self._check_and_store(first, rows, writer)
        except BaseException:
            store.discard_campaign(self.campaign_id)
            raise
        self._release(total)
        return self.campaign_id

    def _check_and_store(self, first: _Chunk, rows: Iterator[Recipient], writer: _HeldWriter) -> int:
        total = 0
        chunk = first
        while chunk[0]:
            writer.write(chunk)
            total += len(chunk[0])
            chunk = self._prepare(list(islice(rows, INTAKE_CHUNK)), first_row=total)
        return total

    def _prepare(self, chunk: list[Recipient], *, first_row: int) -> _Chunk:
        if not chunk:
            return [], {}
        now = time.time()
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
            deadline=self.deadline,
            now=now,
            campaign=self.campaign_id,
            field_prefix="recipients",
            callback_urls=self.dispatcher.callback_urls,
        )
        return records, plan_extras(messages, records, self.delivery, now=now)

    def _release(self, total: int) -> None:
        for start in range(0, total, RELEASE_CHUNK):
            self.dispatcher.store.release_campaign(
                self.campaign_id, self.lane, start=start, count=RELEASE_CHUNK
            )
            self.dispatcher._kick([self.lane])
        if total % RELEASE_CHUNK == 0:
            # The last call above released a full chunk, so it could not tell the campaign was done.
            self.dispatcher.store.release_campaign(
                self.campaign_id, self.lane, start=total, count=RELEASE_CHUNK
            )

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

"""Campaign intake: render the template per recipient, check and encode, store, commit, release.

All or nothing, in constant memory, without reading the recipients twice: chunks are checked and
encoded in this thread while a writer thread stores the previous chunk *held* — in Redis, counted
in the campaign, but out of the lane, so nothing is sent yet. When every recipient is valid the
campaign is *committed* (one atomic step: from then on it is accepted) and released into its lane;
a bad recipient, or a store failure before the commit, discards everything stored so far instead.

The campaign id is claimed first (``Store.claim_campaign``): one producer owns the intake, renewing
its lease while it checks; a call that finds the id taken replays, waits or refuses as
``campaign_replay`` decides, so a campaign is stored once however often it is sent.

Failures say what happened: before the commit nothing of the campaign is accepted (a producer that
dies leaves it held; a replay takes it over once its lease runs out, and beat discards it); after
it the campaign goes out in full, whatever fails (beat finishes a release its producer could not);
a commit whose answer was lost is ``StoreOutcomeUnknown``: ``Dispatcher.campaign_accepted`` tells,
and a replay with the same id and content is always safe.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING

import redis

from dispatcher.errors import InvalidMessage, Problem, StoreOutcomeUnknown, StoreUnavailable
from dispatcher.pipeline.release import release_committed
from dispatcher.producer.campaign_replay import (
    ContentDigest,
    Step,
    campaign_conflict,
    next_step,
    template_digest,
)
from dispatcher.producer.csv_rows import CsvRow
from dispatcher.producer.extras import Delivery, plan_extras, with_native_window
from dispatcher.producer.held_writer import Chunk, HeldWriter
from dispatcher.producer.intake import prepare
from dispatcher.producer.routing import Message, priority_class, provider_of_model
from dispatcher.producer.store_errors import campaign_not_accepted, write_may_be_applied
from dispatcher.producer.templates import (
    MessageTemplate,
    Recipient,
    Recipients,
    place_of,
    recipient_rows,
)
from dispatcher.store import INTAKE_CHUNK, NewMessage
from dispatcher.store.campaigns import RELEASING, CampaignClaim
from dispatcher.taskqueue import lane_name

if TYPE_CHECKING:
    from dispatcher.producer.dispatcher import Dispatcher

log = logging.getLogger(__name__)

#: How often a call that found its campaign id being checked by another producer looks again.
CLAIM_POLL_S = 0.2
#: At most this many problems are listed when recipients are refused (the count of bad rows is
#: always given): enough to fix a file, not a megabyte of error.
PROBLEMS_LISTED = 100


@dataclass(frozen=True, slots=True)
class CampaignReceipt:
    """A campaign call's answer: the id, and whether the call only replayed a campaign already
    stored under it (the same content: nothing was stored again)."""

    id: str
    replayed: bool = False


class _BadRows(Exception):
    """Rows of one chunk are invalid (internal: the intake goes on reading to report them all)."""

    def __init__(self, problems: list[Problem], rows: int) -> None:
        super().__init__(f"{rows} invalid rows")
        self.problems = problems
        self.rows = rows


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
        options: str,
        region: str | None = None,
    ) -> None:
        """``options``: the call's options, canonical (``call_options``): part of what the
        campaign id stands for. ``region``: where numbers written nationally belong."""
        self.dispatcher = dispatcher
        self.region = region
        #: Recipients read so far (the next chunk's first index).
        self.rows_read = 0
        self.delivery = delivery
        self.template = template
        self.campaign_id = campaign_id
        self.priority = priority
        self.account = dispatcher.router.account(provider_of_model(template.model), account)
        self.ttl_s = deadline_s
        self.lane = lane_name(self.account, priority_class(None, requested=priority, single=False))
        self.provider = provider_of_model(template.model)
        self.template_digest = template_digest(template, options)
        self.content = ContentDigest(self.template_digest)
        #: This call's claim on the campaign id: it fences every write of the intake.
        self.owner = secrets.token_hex(12)

    def run(self, recipients: Recipients) -> CampaignReceipt:
        store = self.dispatcher.store
        rows = recipient_rows(recipients)
        first_rows = list(islice(rows, INTAKE_CHUNK))
        if first_rows and isinstance(first_rows[0], CsvRow):
            self.template.check_columns(first_rows[0].headers)
        self.content.add(first_rows)
        try:
            first = self._prepare(first_rows)
        except _BadRows as bad:
            raise self._every_problem(bad, rows) from None
        # A template's lane is fixed by its model type: a voice-code campaign is transactional.
        self.lane = first[0][0].lane if first[0] else self.lane
        existing = self._claim()
        if existing is not None:
            return self._replay(existing, rows)
        settings = self.dispatcher.settings
        try:
            with HeldWriter(store, self.owner, self._renew, settings.campaign_lease_s / 3) as writer:
                self._check_and_store(first, rows, writer)
        except BaseException as exc:
            self._discard()
            if isinstance(exc, _BadRows):
                raise self._every_problem(exc, rows) from None
            if isinstance(exc, redis.RedisError):
                raise campaign_not_accepted(exc, self.campaign_id) from exc
            if isinstance(exc, StoreUnavailable) and exc.campaign is None:
                exc.campaign = self.campaign_id
            raise
        self._commit()
        self._release()
        return CampaignReceipt(self.campaign_id)

    def _claim(self) -> CampaignClaim | None:
        """Claim the campaign id (None), or the committed campaign stored under it already. Waits
        while another producer checks it (bounded: that intake commits or fails within
        ``held_campaign_timeout_s``); takes over what a dead producer left unaccepted."""
        store, settings = self.dispatcher.store, self.dispatcher.settings
        give_up = time.monotonic() + settings.held_campaign_timeout_s + settings.campaign_lease_s
        while True:
            try:
                claim = store.claim_campaign(
                    self.campaign_id,
                    account=self.account,
                    lane=self.lane,
                    owner=self.owner,
                    lease_s=settings.campaign_lease_s,
                    template_digest=self.template_digest,
                )
                if claim is None:
                    return None
                step = next_step(claim, self.template_digest)
                if step is Step.COMPARE_CONTENT:
                    return claim
                if step is Step.CONFLICT:
                    raise campaign_conflict(self.campaign_id)
                if step is Step.TAKE_OVER:
                    log.info("campaign %s: taking over an intake never accepted", self.campaign_id)
                    store.discard_campaign(self.campaign_id, owner=claim.owner)
                    continue
            except redis.RedisError as exc:
                raise campaign_not_accepted(exc, self.campaign_id) from exc
            if time.monotonic() > give_up:
                raise StoreUnavailable(
                    f"campaign {self.campaign_id}: another call with this id is still checking it; "
                    "nothing of this call was stored; look the campaign up, or send again later",
                    campaign=self.campaign_id,
                )
            time.sleep(CLAIM_POLL_S)

    def _replay(self, existing: CampaignClaim, rows: Iterator[Recipient]) -> CampaignReceipt:
        """The id names a committed campaign: the same one if every recipient is the same (read to
        the end, digested, neither checked nor stored). Its release is finished if still under way."""
        while chunk := list(islice(rows, INTAKE_CHUNK)):
            self.content.add(chunk)
        if self.content.hexdigest() != existing.content_digest:
            raise campaign_conflict(self.campaign_id)
        if existing.phase == RELEASING:
            self._release()
        log.info("campaign %s: replayed (same content): nothing stored again", self.campaign_id)
        return CampaignReceipt(self.campaign_id, replayed=True)

    def _renew(self) -> bool:
        store, settings = self.dispatcher.store, self.dispatcher.settings
        return store.renew_campaign(self.campaign_id, owner=self.owner, lease_s=settings.campaign_lease_s)

    def _discard(self) -> None:
        """Remove what was stored of a campaign that will not be committed (only while it is still
        this call's); if Redis cannot be reached now, beat discards it once its lease has run out.
        Either way none of it is ever sent: it was never committed."""
        try:
            self.dispatcher.store.discard_campaign(self.campaign_id, owner=self.owner)
        except redis.RedisError as exc:
            log.warning(
                "campaign %s not committed; discarding it failed (%s): beat will",
                self.campaign_id,
                type(exc).__name__,
            )

    def _commit(self) -> None:
        try:
            committed = self.dispatcher.store.commit_campaign(
                self.campaign_id, owner=self.owner, content_digest=self.content.hexdigest()
            )
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
                f"campaign {self.campaign_id}: this intake lost its claim (it took longer than "
                "held_campaign_timeout_s, or stalled past campaign_lease_s and another call with the "
                "same id took the campaign over); nothing of this call is sent",
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

    def _check_and_store(self, first: Chunk, rows: Iterator[Recipient], writer: HeldWriter) -> None:
        chunk = first
        while chunk[0]:
            writer.write(chunk)
            recipients = list(islice(rows, INTAKE_CHUNK))
            self.content.add(recipients)
            chunk = self._prepare(recipients)

    def _every_problem(self, first: _BadRows, rows: Iterator[Recipient]) -> InvalidMessage:
        """The refusal of the whole campaign: ``first``'s problems and those of every later row
        (read to the end, checked, never stored), at most ``PROBLEMS_LISTED``, and the count."""
        problems, bad_rows = list(first.problems[:PROBLEMS_LISTED]), first.rows
        while chunk := list(islice(rows, INTAKE_CHUNK)):
            try:
                self._prepare(chunk)
            except _BadRows as bad:
                problems += bad.problems[: PROBLEMS_LISTED - len(problems)]
                bad_rows += bad.rows
        listed = (
            f" (the first {len(problems)} problems are listed)" if len(problems) >= PROBLEMS_LISTED else ""
        )
        return InvalidMessage(
            problems,
            summary=f"{bad_rows} of {self.rows_read} recipients are invalid{listed}; nothing of the campaign "
            "is stored",
        )

    def _prepare(self, chunk: list[Recipient]) -> Chunk:
        """Render, check and encode one chunk; raises ``_BadRows`` naming each of its problems."""
        first_row = self.rows_read
        self.rows_read += len(chunk)
        if not chunk:
            return [], {}
        rendered, rows, problems, bad = self._messages(chunk, first_row)
        messages = [with_native_window(message, self.delivery.window) for message in rendered]

        def name_field(index: int, field: str) -> str:
            # The index-th message came from chunk row rows[index]: named where that row is.
            place = place_of(chunk[rows[index]], first_row + rows[index])
            bad.add(place.row)
            return place.field(field)

        try:
            records = self._records(messages, name_field)
        except InvalidMessage as exc:
            problems += exc.problems
        if problems:
            raise _BadRows(problems, len(bad))
        return records, plan_extras(messages, records, self.delivery)

    def _records(self, messages: list[Message], name_field: Callable[[int, str], str]) -> list[NewMessage]:
        return prepare(
            messages,
            router=self.dispatcher.router,
            accounts=self.dispatcher.accounts,
            account=self.account,
            priority=self.priority,
            single=False,
            ttl_s=self.ttl_s,
            now=time.time(),
            campaign=self.campaign_id,
            name_field=name_field,
            callback_urls=self.dispatcher.callback_urls,
        )

    def _messages(
        self, chunk: list[Recipient], first_row: int
    ) -> tuple[list[Message], list[int], list[Problem], set[str]]:
        """The chunk's messages and the chunk row each came from; the problems of the rows that
        are not, and those rows (``RowPlace.row``)."""
        messages: list[Message] = []
        rows: list[int] = []
        problems: list[Problem] = []
        bad: set[str] = set()
        render, region = self.template.render, self.region
        for offset, recipient in enumerate(chunk):
            try:
                messages.append(render(recipient, region=region))
            except InvalidMessage:
                # Rendered again, only for a bad row, to name its problems where the row is.
                place = place_of(recipient, first_row + offset)
                try:
                    render(recipient, region=region, place=place)
                except InvalidMessage as exc:
                    problems += exc.problems
                bad.add(place.row)
            else:
                rows.append(offset)
        return messages, rows, problems, bad

"""Campaign intake: render the template per recipient, check and encode, then store and kick.

All or nothing, in constant memory: the first pass checks and encodes every recipient, chunk by
chunk, into a temporary spool file (one ``<id> <wire JSON>`` line each; JSON has no raw newline);
only when every recipient is valid does the second pass store the spool, chunk by chunk, kicking
the lane as it goes. A bad recipient therefore stores nothing, whatever the source (a one-shot
iterator included), and no recipient is rendered or validated twice.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from itertools import islice
from typing import IO, TYPE_CHECKING

from dispatcher.errors import InvalidMessage, Problem
from dispatcher.producer.intake import prepare
from dispatcher.producer.routing import Message, priority_class, provider_of_model
from dispatcher.producer.templates import MessageTemplate, Recipient, Recipients, recipient_rows
from dispatcher.store import INTAKE_CHUNK, NewMessage
from dispatcher.taskqueue import lane_name

if TYPE_CHECKING:
    from dispatcher.producer.dispatcher import Dispatcher


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
    ) -> None:
        self.dispatcher = dispatcher
        self.template = template
        self.campaign_id = campaign_id
        self.priority = priority
        self.account = dispatcher.router.account(provider_of_model(template.model), account)
        self.deadline = time.time() + deadline_s
        self.lane = lane_name(self.account, priority_class(None, requested=priority, single=False))
        self.provider = provider_of_model(template.model)

    def run(self, recipients: Recipients) -> str:
        with tempfile.TemporaryFile() as spool:
            self._check_and_encode(recipient_rows(recipients), spool)
            spool.seek(0)
            now = time.time()
            self.dispatcher.store.create_campaign(
                self.campaign_id, account=self.account, lane=self.lane, now=now
            )
            for records in self._spooled(spool):
                self.dispatcher._store(records, now=time.time())
        return self.campaign_id

    def _check_and_encode(self, rows: Iterator[Recipient], spool: IO[bytes]) -> None:
        first_row = 0
        while chunk := list(islice(rows, INTAKE_CHUNK)):
            now = time.time()
            records = prepare(
                self._messages(chunk, first_row),
                router=self.dispatcher.router,
                accounts=self.dispatcher.accounts,
                account=self.account,
                priority=self.priority,
                single=False,
                deadline=self.deadline,
                now=now,
                campaign=self.campaign_id,
                field_prefix="recipients",
            )
            # A template's lane is fixed by its model type: a voice-code campaign is transactional.
            self.lane = records[0].lane
            spool.write(b"".join(record.id.encode() + b" " + record.wire + b"\n" for record in records))
            first_row += len(chunk)

    def _spooled(self, spool: IO[bytes]) -> Iterator[list[NewMessage]]:
        while lines := list(islice(spool, INTAKE_CHUNK)):
            yield [
                NewMessage(
                    message_id.decode(),
                    self.lane,
                    self.provider,
                    wire.rstrip(b"\n"),
                    self.deadline,
                    self.campaign_id,
                )
                for message_id, wire in (line.split(b" ", 1) for line in lines)
            ]

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

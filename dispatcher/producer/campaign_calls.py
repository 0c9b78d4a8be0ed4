"""``Dispatcher``'s campaign calls: start one (``campaign``), follow it, cancel it. The intake
itself is ``campaigns.CampaignIntake``."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, cast

from dispatcher.accounts import Account
from dispatcher.errors import InvalidMessage, Problem
from dispatcher.phone import region_code
from dispatcher.producer.campaign_replay import check_campaign_id
from dispatcher.producer.campaigns import CampaignIntake, CampaignReceipt
from dispatcher.producer.ids import new_message_ids
from dispatcher.producer.intake import call_options
from dispatcher.producer.provider_stop import stop_at_provider
from dispatcher.producer.templates import MessageTemplate, Recipients
from dispatcher.producer.windows import SendingWindow
from dispatcher.settings import Settings
from dispatcher.store import INTAKE_CHUNK, Store
from dispatcher.store.states import SUBMITTED

if TYPE_CHECKING:
    from dispatcher.producer.dispatcher import Dispatcher
    from dispatcher.producer.extras import Delivery


class CampaignCalls:
    """Mixed into ``Dispatcher``, whose store, settings and option checks it uses."""

    store: Store
    settings: Settings
    accounts: Mapping[str, Account]

    if TYPE_CHECKING:

        def _delivery(
            self, send_at: datetime | float | None, window: SendingWindow | None, webhook_url: str | None
        ) -> Delivery: ...

        def _deadline_s(self, deadline_s: float | None) -> float: ...

    def campaign(
        self,
        template: MessageTemplate,
        recipients: Recipients,
        *,
        account: str | None = None,
        campaign_id: str | None = None,
        priority: str | None = None,
        deadline_s: float | None = None,
        send_at: datetime | float | None = None,
        window: SendingWindow | None = None,
        webhook_url: str | None = None,
        region: str | None = None,
    ) -> str:
        """Send ``template`` to every recipient (numbers, dicts or a CSV path); returns the campaign id.

        Recipients are read in chunks of ``INTAKE_CHUNK`` (constant memory), all checked before
        any is stored: a broken recipient raises InvalidMessage naming its row (``line N`` of a CSV
        file, ``recipients[i]`` otherwise) and
        nothing of the campaign is stored. ``send_at``, ``window``, ``webhook_url``: as for ``send``.
        ``region`` (ISO 3166, default: the ``default_region`` setting): the region numbers written
        nationally (``8 916 123-45-67``) belong to; without one they are refused.

        ``campaign_id`` (1..64 letters, digits, ``_``, ``-``; default: a new id) makes the call
        idempotent: called again with the same id, template, options and recipients, it stores
        nothing and returns the id (also while the first call is still running elsewhere: it waits
        for it); with anything different it raises IdempotencyConflict.
        """
        return self.campaign_with_receipt(
            template,
            recipients,
            account=account,
            campaign_id=campaign_id,
            priority=priority,
            deadline_s=deadline_s,
            send_at=send_at,
            window=window,
            webhook_url=webhook_url,
            region=region,
        ).id

    def campaign_with_receipt(
        self,
        template: MessageTemplate,
        recipients: Recipients,
        *,
        account: str | None = None,
        campaign_id: str | None = None,
        priority: str | None = None,
        deadline_s: float | None = None,
        send_at: datetime | float | None = None,
        window: SendingWindow | None = None,
        webhook_url: str | None = None,
        region: str | None = None,
    ) -> CampaignReceipt:
        """``campaign``, answering whether the call only replayed the campaign already stored
        under ``campaign_id`` (what the HTTP API's ``Idempotent-Replayed`` header says)."""
        if campaign_id is not None:
            check_campaign_id(campaign_id)
        region = self._region(region)
        delivery = self._delivery(send_at, window, webhook_url)
        intake = CampaignIntake(
            cast("Dispatcher", self),  # mixed into Dispatcher only
            template,
            campaign_id=campaign_id or new_message_ids(1, now=time.time())[0],
            account=account,
            priority=priority,
            deadline_s=self._deadline_s(deadline_s),
            delivery=delivery,
            options=call_options(
                account=account,
                priority=priority,
                deadline_s=deadline_s,
                send_at=delivery.send_at,
                window=window,
                webhook_url=webhook_url,
                region=region,
            ),
            region=region,
        )
        return intake.run(recipients)

    def _region(self, region: str | None) -> str | None:
        if region is None:
            return self.settings.default_region
        try:
            return region_code(region)
        except ValueError as exc:
            raise InvalidMessage([Problem("region", region, str(exc))]) from None

    def campaign_status(self, campaign_id: str) -> dict[str, int]:
        """Messages per state, plus ``total``."""
        return self.store.campaign_counts(campaign_id)

    def campaign_accepted(self, campaign_id: str) -> bool | None:
        """Whether the campaign was accepted (every recipient checked: it goes out in full); False
        while it is still being checked or is being discarded; None for an unknown campaign."""
        return self.store.campaign_accepted(campaign_id)

    def cancel_campaign(self, campaign_id: str) -> dict[str, int]:
        """Cancel every message of the campaign not yet gone out, and ask Revicom to stop those it
        holds for a later send time; the counts after."""
        ids = self.store.campaign_message_ids(campaign_id)
        while chunk := list(islice(ids, INTAKE_CHUNK)):
            states = self.store.cancel_many(chunk)
            submitted = [
                message_id for message_id, state in zip(chunk, states, strict=True) if state == SUBMITTED
            ]
            if submitted:
                stop_at_provider(self.store, self.accounts, submitted)
        return self.store.campaign_counts(campaign_id)

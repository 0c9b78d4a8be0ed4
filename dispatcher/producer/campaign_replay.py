"""What a campaign id stands for, and what a call does when the id exists already (pure, no I/O).

A campaign id is an idempotency key for the whole campaign: its template and options
(``template_digest``, known before the first recipient is read) and every recipient in order
(``ContentDigest``, complete only after the last). A replay with the same content creates nothing
and answers the existing campaign; different content under the same id is a conflict. What a call
does when it finds the id already claimed (``next_step``):

- committed (releasing or released) → read its own recipients to the end, digest only (nothing is
  checked or stored), and compare: the same → the existing campaign (a release still under way is
  finished), different → conflict;
- another producer still checking it, its lease alive → wait for it to commit or fail;
- checking with the lease run out (that producer died or stalled), or being discarded → it was
  never accepted, so nothing of it was sent: discard it and claim the id afresh (the replay
  *resumes* by creating the campaign from its own recipients).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from enum import Enum

import orjson

from dispatcher.errors import IdempotencyConflict, InvalidMessage, Problem
from dispatcher.producer.templates import MessageTemplate, Recipient
from dispatcher.store.campaigns import CHECKING, DISCARDING, CampaignClaim

#: What a campaign id may be: it is part of Redis key names, so no ``:`` (and no spaces).
CAMPAIGN_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_CAMPAIGN_ID = re.compile(CAMPAIGN_ID_PATTERN)


class Step(Enum):
    COMPARE_CONTENT = "compare the content, then answer the existing campaign"
    WAIT = "wait for the producer checking it"
    TAKE_OVER = "discard what was never accepted, then claim again"
    CONFLICT = "refuse: the id names another campaign"


def check_campaign_id(campaign_id: str) -> None:
    if not _CAMPAIGN_ID.fullmatch(campaign_id):
        raise InvalidMessage(
            [Problem("campaign_id", campaign_id, "must be 1..64 letters, digits, '_' or '-'")]
        )


def template_digest(template: MessageTemplate, options: str) -> str:
    """The campaign's template (channel model and fields) and the call's options (``call_options``)."""
    fields = orjson.dumps(dict(template.fields), option=_JSON_OPTIONS, default=str)
    return hashlib.sha256(
        b"%s\n%s\n%s" % (template.model.__name__.encode(), fields, options.encode())
    ).hexdigest()


class ContentDigest:
    """The template digest and every recipient row in order, fed chunk by chunk as rows are read."""

    def __init__(self, template_digest: str) -> None:
        self._hash = hashlib.sha256(template_digest.encode())

    def add(self, rows: Iterable[Recipient]) -> None:
        update = self._hash.update
        for row in rows:
            update(
                orjson.dumps(row if isinstance(row, str) else dict(row), option=_JSON_OPTIONS, default=str)
            )
            update(b"\n")

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def next_step(claim: CampaignClaim, template_digest: str) -> Step:
    """What a call with ``template_digest`` does about the campaign ``claim`` describes."""
    if claim.phase == DISCARDING or (claim.phase == CHECKING and not _lease_alive(claim)):
        return Step.TAKE_OVER
    if claim.template_digest != template_digest:
        # Also a campaign that keeps no digest (stored by an earlier version, or created without
        # checking): nothing proves the replay is the same campaign.
        return Step.CONFLICT
    if claim.phase == CHECKING:
        return Step.WAIT
    return Step.COMPARE_CONTENT if claim.content_digest else Step.CONFLICT


def campaign_conflict(campaign_id: str) -> IdempotencyConflict:
    rule = (
        "already names a campaign with other content (template, options or recipients): a campaign id "
        "may be sent again only with the same campaign"
    )
    return IdempotencyConflict([Problem("campaign_id", campaign_id, rule)], existing=campaign_id)


def _lease_alive(claim: CampaignClaim) -> bool:
    return claim.lease_left_s is not None and claim.lease_left_s > 0


_JSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS

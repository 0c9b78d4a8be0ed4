"""Campaigns in the store: claimed by one producer while their recipients are checked, committed,
released into their lane, or discarded; their counters and id lists.

A campaign id is an idempotency key. ``claim_campaign`` gives its intake to exactly one producer
(an owner token and a lease by Redis' clock); every other call with the same id learns what exists
(``CampaignClaim``) and replays, waits or refuses. The owner's token fences its writes: held
messages, the commit and a discard are refused once the claim is lost, so a producer that stalled
past its lease cannot add to, commit or remove the campaign another producer took over.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

from dispatcher.store.base import StoreBase, epoch_s
from dispatcher.store.records import RawHash, decoded
from dispatcher.store.states import ALL_STATES

_CAMPAIGN_IDS_PAGE = 1000

#: Phases of a held campaign (the hash's ``ph``); a released campaign has none.
CHECKING = "checking"
RELEASING = "releasing"
DISCARDING = "discarding"


@dataclass(frozen=True, slots=True)
class HeldCampaign:
    """A campaign in intake: ``checking`` (not accepted yet), ``releasing`` (accepted, going to its
    lane) or ``discarding``; ``age_s`` since its intake began, ``committed_s`` since it was
    committed (None before), ``lease_left_s`` of its owner's claim (None once committed), all by
    Redis' clock; ``owner``: the token of the producer whose intake it is."""

    id: str
    phase: str
    lane: str
    age_s: float
    committed_s: float | None
    owner: str = ""
    lease_left_s: float | None = None


@dataclass(frozen=True, slots=True)
class CampaignClaim:
    """What exists under a campaign id another producer claimed first.

    ``phase``: ``checking``, ``releasing``, ``discarding``, or ``""`` once released; ``owner``: the
    claiming producer's token; ``lease_left_s``: how long its claim lasts unless renewed (None once
    committed; negative when it ran out: that producer is gone); ``template_digest`` and
    ``content_digest``: what the campaign was made of (``""`` where it does not keep one: the
    content digest is written at the commit)."""

    phase: str
    owner: str
    lease_left_s: float | None
    template_digest: str
    content_digest: str


class CampaignStore(StoreBase):
    """The campaign operations of the store."""

    def create_campaign(self, campaign_id: str, *, account: str, lane: str) -> None:
        """Record a campaign whose messages are stored straight into their lane (no checking
        phase); counters already there are kept. Producers begin with ``claim_campaign``."""
        self._scripts.create_campaign(keys=[self._keys.campaign(campaign_id)], args=[account, lane])

    def claim_campaign(
        self,
        campaign_id: str,
        *,
        account: str,
        lane: str,
        owner: str,
        lease_s: float,
        template_digest: str,
    ) -> CampaignClaim | None:
        """Begin a held campaign (*checking*) owned by ``owner`` for ``lease_s`` (keep it with
        ``renew_campaign``): None when claimed. Its messages are stored with
        ``add_messages(held_by=owner)`` while the producer checks the rest, and nothing of it is
        sent until ``commit_campaign``; one never committed is removed with ``discard_campaign``.
        If the id exists already, nothing is changed and its ``CampaignClaim`` comes back."""
        reply = self._scripts.claim_campaign(
            keys=[self._keys.campaign(campaign_id), self._keys.held],
            args=[account, lane, owner, lease_s, template_digest, campaign_id],
        )
        if int(reply[0]):
            return None
        phase, found_owner, lease_left, template, content = (decoded(raw) for raw in reply[1:])
        return CampaignClaim(phase, found_owner, float(lease_left) if lease_left else None, template, content)

    def renew_campaign(self, campaign_id: str, *, owner: str, lease_s: float) -> bool:
        """Extend ``owner``'s claim by ``lease_s`` from now; False if it is lost (stop storing)."""
        return bool(
            self._scripts.renew_campaign(keys=[self._keys.campaign(campaign_id)], args=[owner, lease_s])
        )

    def commit_campaign(self, campaign_id: str, *, owner: str, content_digest: str) -> bool:
        """Accept a held campaign whose recipients all passed (*checking* → *releasing*): from now
        on it is released (by its producer, or by beat) and never discarded; ``content_digest`` is
        kept for replays to compare. True if committed by ``owner`` (now or before); False if it
        cannot be: unknown, claimed by another producer, or being discarded."""
        return bool(
            self._scripts.commit_campaign(
                keys=[self._keys.campaign(campaign_id)], args=[owner, content_digest]
            )
        )

    def release_campaign(self, campaign_id: str, lane: str, *, count: int) -> tuple[int, bool]:
        """Put the next ``count`` ids of a committed campaign on its lane, from where the last call
        (anyone's) stopped; returns (how many went, whether the campaign is fully released)."""
        released, done = self._scripts.release_campaign(
            keys=[
                self._keys.campaign_ids(campaign_id),
                self._keys.lane(lane),
                self._keys.lanes,
                self._keys.campaign(campaign_id),
                self._keys.held,
            ],
            args=[count, lane, campaign_id],
        )
        return int(released), bool(done)

    def discard_campaign(self, campaign_id: str, *, owner: str = "", chunk: int = _CAMPAIGN_IDS_PAGE) -> int:
        """Delete a held campaign never committed, and its messages (never a committed one);
        returns how many. ``owner``: only if the campaign is still that producer's (the token the
        caller saw); "" for whoever's it is."""
        deleted = 0
        while True:
            removed = int(
                self._scripts.discard_campaign(
                    keys=[
                        self._keys.campaign_ids(campaign_id),
                        self._keys.campaign(campaign_id),
                        self._keys.held,
                    ],
                    args=[self._keys.root, chunk, campaign_id, owner],
                )
            )
            deleted += removed
            if removed < chunk:
                return deleted

    def held_campaigns(self) -> list[HeldCampaign]:
        """Campaigns whose intake has not finished: still checking (their producer may have died)
        or committed and still releasing, each with its age by Redis' clock."""
        pipe = self._client.pipeline(transaction=False)
        pipe.time()
        pipe.zrange(self._keys.held, 0, -1, withscores=True)
        clock, members = pipe.execute()
        now = epoch_s(clock)
        if not members:
            return []
        pipe = self._client.pipeline(transaction=False)
        for raw_id, _ in members:
            pipe.hmget(self._keys.campaign(decoded(raw_id)), "ph", "ln", "cm", "ow", "lx")
        return [
            HeldCampaign(
                decoded(raw_id),
                decoded(phase),
                decoded(lane),
                now - began,
                now - float(committed) if committed is not None else None,
                decoded(owner) if owner is not None else "",
                float(lease) - now if lease is not None else None,
            )
            for (raw_id, began), (phase, lane, committed, owner, lease) in zip(
                members, pipe.execute(), strict=True
            )
            if phase is not None and lane is not None
        ]

    def campaign_counts(self, campaign_id: str) -> dict[str, int]:
        """Messages per state (every state, zeros included), plus ``total``."""
        fields = cast(RawHash, self._client.hgetall(self._keys.campaign(campaign_id)))
        counts = dict.fromkeys(ALL_STATES, 0)
        counts["total"] = int(fields.get(b"total", 0))
        for name, value in fields.items():
            if name.startswith(b"n:"):
                counts[name[2:].decode()] = int(value)
        return counts

    def campaign_accepted(self, campaign_id: str) -> bool | None:
        """True once committed (or never held), False while checking or discarding, None if unknown."""
        pipe = self._client.pipeline(transaction=False)
        pipe.exists(self._keys.campaign(campaign_id))
        pipe.hget(self._keys.campaign(campaign_id), "ph")
        exists, phase = pipe.execute()
        if not exists:
            return None
        return phase not in (CHECKING.encode(), DISCARDING.encode())

    def campaign_message_ids(self, campaign_id: str) -> Iterator[str]:
        """The campaign's message ids in intake order, read page by page."""
        key = self._keys.campaign_ids(campaign_id)
        start = 0
        while page := self._client.lrange(key, start, start + _CAMPAIGN_IDS_PAGE - 1):
            yield from (decoded(raw) for raw in page)
            start += len(page)

"""Settle a batch left ``posting`` (lost response, dead worker) by asking the provider what it holds.

Never a blind resend: Revicom — look the request tag up and match what it created to our
messages by destination, channel and sender; BSG — look each ``reference_id`` up (BSG refuses a
reused one, so a resend cannot duplicate); Smartswitch — no look-up exists, the account's
``ambiguity_policy`` decides. Messages the provider never created go back to the lane head.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import orjson

from dispatcher.accounts import SmartswitchAccount
from dispatcher.metrics.events import RECONCILED
from dispatcher.pipeline.runtime import Runtime
from dispatcher.providers.bsg import BsgAdapter
from dispatcher.providers.outcomes import Outcome, Submitted
from dispatcher.providers.revicom import RemoteMessage, RevicomAdapter
from dispatcher.store import Batch, BatchItem
from dispatcher.store.states import UNKNOWN

log = logging.getLogger(__name__)

#: Reconciliations hold a lease named after their batch, so beat's repeated requests for the same
#: batch do not ask the provider twice at once. The name cannot clash with a lane (no ``:class``).
LOCK_PREFIX = "!reconcile "

MatchKey = tuple[str | None, str | None, str | None]


@dataclass
class ReconcileReport:
    counts: Counter[str] = field(default_factory=Counter)


def revicom_key(wire: bytes) -> MatchKey:
    item = orjson.loads(wire)
    return (item.get("destination"), item.get("channelType"), item.get("senderName"))


def match_created(
    ours: Sequence[tuple[str, MatchKey]], created: Sequence[RemoteMessage]
) -> tuple[list[tuple[str, Outcome]], list[str]]:
    """Pair our messages with what one request created; each created message pairs at most once.

    Returns (message id, ``Submitted``) pairs and the ids of ours the provider never created.
    """
    available: dict[MatchKey, list[str]] = defaultdict(list)
    for remote in created:
        available[(remote.destination, remote.channel_type, remote.sender_name)].append(remote.message_uuid)
    found: list[tuple[str, Outcome]] = []
    missing: list[str] = []
    for message_id, key in ours:
        uuids = available.get(key)
        if uuids:
            found.append((message_id, Submitted(provider_message_id=uuids.pop(0))))
        else:
            missing.append(message_id)
    return found, missing


def bsg_reference(wire: bytes) -> str:
    return str(orjson.loads(wire)["phone"]["reference_id"])


def reconcile_batch(runtime: Runtime, batch_id: str) -> ReconcileReport | None:
    """Settle one posting batch; ``None`` when another reconciliation holds it or it is gone."""
    store = runtime.store
    lock = LOCK_PREFIX + batch_id
    lease_s = runtime.settings.connect_timeout_s + 2 * runtime.settings.read_timeout_s
    token = store.claim_runner(lock, max_runners=1, lease_s=lease_s)
    if token is None:
        return None
    try:
        batch = store.get_batch(batch_id)
        if batch is None or batch.state != "posting":
            return None
        report = _reconcile(runtime, batch)
        account = runtime.lane_account(batch.lane).name
        for result, count in report.counts.items():
            RECONCILED.labels(account, result).inc(count)
        return report
    finally:
        store.release_runner(lock, token)


def _reconcile(runtime: Runtime, batch: Batch) -> ReconcileReport:
    account = runtime.lane_account(batch.lane)
    adapter = runtime.adapters.adapter(account.name)
    items = batch.items
    found: list[tuple[str, Outcome]]
    if isinstance(adapter, RevicomAdapter):
        created = adapter.find_by_tag(batch.tag) if batch.tag else []
        found, missing = match_created([(item.id, revicom_key(item.wire)) for item in items], created)
    elif isinstance(adapter, BsgAdapter):
        found, missing = _bsg_lookups(adapter, items)
    else:
        return _apply_smartswitch_policy(runtime, batch, adapter.account)
    report = ReconcileReport()
    if found:
        runtime.store.record_outcomes(batch.id, found, account=account.name)
        report.counts["submitted"] += len(found)
    if missing:
        reason = "reconciled: the provider never created it"
        report.counts["requeued"] += runtime.store.requeue(
            batch.id, missing, reason=reason, only_if_state="posting", only_if_tag=batch.tag or ""
        )
    log.info("lane %s batch %s reconciled: %s", batch.lane, batch.id, dict(report.counts))
    return report


def _bsg_lookups(
    adapter: BsgAdapter, items: Sequence[BatchItem]
) -> tuple[list[tuple[str, Outcome]], list[str]]:
    found: list[tuple[str, Outcome]] = []
    missing: list[str] = []
    for item in items:
        remote = adapter.lookup(bsg_reference(item.wire))
        if remote is None:
            missing.append(item.id)
        else:
            found.append((item.id, Submitted(provider_message_id=remote.provider_message_id)))
    return found, missing


def _apply_smartswitch_policy(runtime: Runtime, batch: Batch, account: SmartswitchAccount) -> ReconcileReport:
    ids = [item.id for item in batch.items]
    report = ReconcileReport()
    if account.ambiguity_policy == "at_least_once":
        report.counts["requeued"] += runtime.store.requeue(
            batch.id,
            ids,
            reason="outcome unknown; at_least_once: sending again",
            only_if_state="posting",
            only_if_tag=batch.tag or "",
        )
    else:
        runtime.store.settle(batch.id, ids, state=UNKNOWN, reason="outcome unknown; at_most_once")
        report.counts[UNKNOWN] += len(ids)
    return report

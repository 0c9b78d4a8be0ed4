"""Send one taken batch: mark it posting, call the adapter, record what happened (docs/pipeline.md §4).

A batch may leave in several requests (one that did not fit is cut; a refused one is halved to find
its bad items). They go one after another, each under its own posting mark and request tag, and
each is recorded before the next is marked: so the batch's unrecorded ids are always the current
request's plus ones never sent, and a reconciliation by the latest tag settles both correctly.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from dispatcher.accounts import Account
from dispatcher.errors import BatchRejected, ConfigurationError, ProviderError
from dispatcher.metrics.events import PROVIDER_REQUEST_MESSAGES, PROVIDER_REQUEST_SECONDS, RETRIES
from dispatcher.pipeline.adapters import WireRequests
from dispatcher.pipeline.policy import Action, Decision, decide, halves, plan_retries
from dispatcher.pipeline.runtime import Runtime
from dispatcher.pipeline.throttle import admit, pause_account, release
from dispatcher.providers.outcomes import Rejected, Submitted
from dispatcher.store import Batch, BatchItem
from dispatcher.store.states import FAILED

log = logging.getLogger(__name__)


class _Stop(Enum):
    """Why the rest of a batch is not sent now."""

    HELD = "held"  # the lane paused, a retry is due later, or the outcome needs reconciling
    LOST = "lost"  # the batch no longer exists: beat gave its messages back
    THROTTLED = "throttled"  # the account's permit is too far off to wait for: hand everything back


Parts = list[Sequence[BatchItem]]


def new_request_tag() -> str:
    """A tag unique to one provider request (Revicom tags match ``^\\w+$``)."""
    return f"dsp{secrets.token_hex(10)}"


@dataclass
class BatchReport:
    """What became of a batch's messages; ``lane_paused`` and ``throttled_for_s`` tell the dispatch
    loop to stop (the latter: the account's next permit is this far off)."""

    counts: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    lane_paused: bool = False
    throttled_for_s: float | None = None


def send_batch(runtime: Runtime, batch: Batch) -> BatchReport:
    """Send a batch ``take_batch`` returned (messages past their deadline were finished there, by
    Redis' clock)."""
    account = runtime.lane_account(batch.lane)
    run = _BatchRun(runtime, batch, account, runtime.adapters.requests(account.name))
    items = batch.items
    fit = run.requests.fitting([item.wire for item in items], tag=new_request_tag())
    run.requeue(items[fit:], reason="did not fit one request")
    run.send_in_order([items[:fit]])
    return run.report


class _BatchRun:
    def __init__(self, runtime: Runtime, batch: Batch, account: Account, requests: WireRequests) -> None:
        self.runtime = runtime
        self.store = runtime.store
        self.batch = batch
        self.account = account
        self.requests = requests
        self.report = BatchReport()

    def send_in_order(self, parts: Parts) -> None:
        while parts:
            part = parts.pop(0)
            split = self.send_part(part, last=not parts)
            if split is _Stop.LOST:
                return
            if split is _Stop.THROTTLED:
                rest = [*part, *(item for later in parts for item in later)]
                self.requeue(rest, reason=f"rate limit: next permit in {self.report.throttled_for_s:.2f} s")
                return
            if split is _Stop.HELD:
                self.requeue([item for rest in parts for item in rest], reason="not sent: batch stopped")
                return
            parts[0:0] = split

    def send_part(self, part: Sequence[BatchItem], *, last: bool) -> Parts | _Stop:
        """Send one request. Returns the parts still to send (``[]`` when done, two halves after a
        refusal), or why the rest of the batch is not sent now. ``last``: no other part is left, so
        ``part`` is all the batch still holds (each earlier part left it before the next was sent)."""
        permit = admit(self.runtime, self.batch.lane, messages=len(part))
        if not permit.granted:
            self.report.throttled_for_s = permit.wait_s
            return _Stop.THROTTLED
        try:
            return self.post(part, last=last)
        finally:
            release(self.runtime, self.batch.lane, permit)

    def post(self, part: Sequence[BatchItem], *, last: bool) -> Parts | _Stop:
        """``send_part`` once the account's permit is granted."""
        tag = new_request_tag()
        reclaim_after_s = self.runtime.reclaim_after_posting_s(self.account)
        # The whole batch (ids=None) spares sending and matching a thousand ids in the common case.
        ids = None if last else [item.id for item in part]
        if not self.store.mark_posting(self.batch.id, tag=tag, reclaim_after_s=reclaim_after_s, ids=ids):
            # Beat gave the batch back (we took longer than take_timeout_s): its messages are someone
            # else's now; sending or requeueing them here could send them twice.
            log.warning("lane %s batch %s was reclaimed before posting", self.batch.lane, self.batch.id)
            return _Stop.LOST
        self.report.requests += 1
        started = time.perf_counter()
        try:
            outcomes = self.requests.send([item.wire for item in part], tag=tag)
        except BatchRejected as error:
            self.observe_request(started, len(part), error)
            decision = decide(error, request_size=len(part))
            if decision.action is Action.SPLIT:
                return list(halves(part))
            self.record([(part[0].id, Rejected(code=error.code, reason=error.reason))])
            return []
        except ProviderError as error:
            self.observe_request(started, len(part), error)
            return self.handle(part, decide(error, request_size=len(part)), cause=error)
        except ConfigurationError as error:
            # A missing secret: nothing was sent, and no retry can help until the deployment is fixed.
            self.observe_request(started, len(part), error)
            return self.handle(part, Decision(Action.PAUSE_LANE, str(error)), cause=error)
        self.observe_request(started, len(part), None)
        self.record(list(zip((item.id for item in part), outcomes, strict=True)))
        return []

    def observe_request(self, started: float, messages: int, error: Exception | None) -> None:
        labels = (self.account.name, self.account.provider, "ok" if error is None else type(error).__name__)
        PROVIDER_REQUEST_SECONDS.labels(*labels).observe(time.perf_counter() - started)
        PROVIDER_REQUEST_MESSAGES.labels(*labels).inc(messages)

    def handle(self, part: Sequence[BatchItem], decision: Decision, *, cause: Exception) -> _Stop:
        lane = self.batch.lane
        log.warning(
            "lane %s batch %s: %d messages, %s (%s)",
            lane,
            self.batch.id,
            len(part),
            decision.action,
            decision.reason,
        )
        if decision.action is Action.PAUSE_LANE:
            self.store.pause_lane(lane, decision.reason, for_s=decision.wait_s)
            if decision.wait_s is not None:
                pause_account(self.runtime, lane, decision.reason, for_s=decision.wait_s)
            self.report.lane_paused = True
            self.requeue(part, reason=decision.reason)
            return _Stop.HELD
        if decision.action is Action.RETRY:
            self.retry(part, decision, cause=cause)
            return _Stop.HELD
        # RECONCILE: the batch stays posting under this request's tag; beat reconciles it.
        self.report.counts["ambiguous"] += len(part)
        return _Stop.HELD

    def retry(self, part: Sequence[BatchItem], decision: Decision, *, cause: Exception) -> None:
        settings = self.runtime.settings
        plan = plan_retries(
            part,
            now=self.store.now(),
            max_attempts=settings.max_attempts,
            base_s=settings.backoff_base_s,
            cap_s=settings.backoff_cap_s,
            at_least_s=decision.wait_s,
            random=self.runtime.random,
        )
        if plan.waits:
            self.store.retry_later(self.batch.id, plan.waits, reason=decision.reason)
            self.report.counts["retrying"] += len(plan.waits)
            RETRIES.labels(self.account.name, type(cause).__name__).inc(len(plan.waits))
        if plan.failed:
            self.store.settle(self.batch.id, plan.failed, state=FAILED, reason=decision.reason)
            self.report.counts[FAILED] += len(plan.failed)

    def record(self, outcomes: list[tuple[str, Submitted | Rejected]]) -> None:
        self.store.record_outcomes(self.batch.id, outcomes, account=self.account.name)
        for _, outcome in outcomes:
            self.report.counts["submitted" if isinstance(outcome, Submitted) else "rejected"] += 1

    def requeue(self, items: Sequence[BatchItem], *, reason: str) -> None:
        if items:
            self.store.requeue(self.batch.id, [item.id for item in items], reason=reason)
            self.report.counts["requeued"] += len(items)

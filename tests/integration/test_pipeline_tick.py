"""Beat's tick on a real store: a campaign never committed is discarded once its producer is surely
gone, a live one kept; a committed one is released to the end, whatever stopped its producer."""

from __future__ import annotations

import time

import pytest
import redis

from dispatcher.accounts import Account
from dispatcher.pipeline.runtime import Runtime
from dispatcher.pipeline.tick import RELEASE_TAKEOVER_S, run_tick
from dispatcher.settings import Settings
from dispatcher.store import Store
from tests.integration.worker_fixtures import in_process_runtime

from .conftest import MessageFactory, claim_held

pytestmark = pytest.mark.integration

LANE = "revicom:bulk"


def _runtime(
    store: Store, redis_client: redis.Redis, key_prefix: str, accounts: dict[str, Account]
) -> Runtime:
    return in_process_runtime(
        store, redis_client, accounts, Settings(key_prefix=key_prefix, held_campaign_timeout_s=1)
    )


def test_tick_discards_a_campaign_never_committed_once_its_producer_is_surely_gone(
    store: Store,
    redis_client: redis.Redis,
    key_prefix: str,
    accounts: dict[str, Account],
    make_messages: MessageFactory,
) -> None:
    runtime = _runtime(store, redis_client, key_prefix, accounts)
    owner_abandoned = claim_held(store, "abandoned", lane=LANE)
    abandoned = make_messages(1500, campaign="abandoned")
    store.add_messages(abandoned, held_by=owner_abandoned)
    time.sleep(1.1)  # older than held_campaign_timeout_s, by Redis' clock
    owner_checking = claim_held(store, "checking", lane=LANE)
    checking = make_messages(10, campaign="checking")
    store.add_messages(checking, held_by=owner_checking)

    report = run_tick(runtime)

    assert report is not None
    assert report.discarded == 1500
    assert store.get(abandoned[0].id) is None
    assert store.campaign_counts("abandoned")["total"] == 0
    assert store.get(checking[0].id) is not None
    assert [campaign.id for campaign in store.held_campaigns()] == ["checking"]


def test_tick_discards_a_campaign_whose_producer_stopped_renewing_its_lease_but_not_a_retaken_one(
    store: Store,
    redis_client: redis.Redis,
    key_prefix: str,
    accounts: dict[str, Account],
    make_messages: MessageFactory,
) -> None:
    runtime = in_process_runtime(store, redis_client, accounts, Settings(key_prefix=key_prefix))
    dead = claim_held(store, "dead", lane=LANE, lease_s=0.2)
    store.add_messages(make_messages(20, campaign="dead"), held_by=dead)
    alive = claim_held(store, "alive", lane=LANE, lease_s=0.2)
    store.add_messages(make_messages(5, campaign="alive"), held_by=alive)
    time.sleep(0.3)
    assert store.renew_campaign("alive", owner=alive, lease_s=30)

    report = run_tick(runtime)

    assert report is not None
    assert report.discarded == 20, "long before held_campaign_timeout_s (an hour)"
    assert [campaign.id for campaign in store.held_campaigns()] == ["alive"]


def test_tick_finishes_the_release_of_a_committed_campaign_and_never_discards_it(
    store: Store,
    redis_client: redis.Redis,
    key_prefix: str,
    accounts: dict[str, Account],
    make_messages: MessageFactory,
) -> None:
    # The failure this guards against: a 25,000-message campaign whose release failed after the
    # first 10,000 stayed held; workers sent those, then the sweep deleted all the records.
    runtime = _runtime(store, redis_client, key_prefix, accounts)
    owner_interrupted = claim_held(store, "interrupted", lane=LANE)
    messages = make_messages(25_000, campaign="interrupted")
    store.add_messages(messages, held_by=owner_interrupted)
    assert store.commit_campaign("interrupted", owner=owner_interrupted, content_digest="c")
    assert store.release_campaign("interrupted", LANE, count=10_000) == (10_000, False)
    # ... and the producer stops here. Workers take some of what was released meanwhile.
    taken = store.take_batch(LANE, max_size=1000, worker="w", take_timeout_s=30)
    assert taken is not None

    early = run_tick(runtime)
    time.sleep(RELEASE_TAKEOVER_S + 0.2)  # past the held timeout too
    report = run_tick(runtime)

    assert early is not None
    assert (early.discarded, early.campaign_released) == (0, 0), "its producer may still be releasing"
    assert report is not None
    assert report.discarded == 0
    assert report.campaign_released == 15_000
    assert store.held_campaigns() == []
    assert store.lane_depth(LANE) == 24_000
    assert all(store.get(m.id) is not None for m in messages[::500])
    assert store.campaign_counts("interrupted")["total"] == 25_000

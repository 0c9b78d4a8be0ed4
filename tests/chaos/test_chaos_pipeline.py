"""The fault suite: the pipeline's guarantees hold while everything around it fails.

A campaign, scheduled SMS (``send_at`` a few seconds ahead) and RCS messages with an SMS fallback go
through real Celery workers, beat, a private Redis and the simulator over HTTP, and more SMS and small
campaigns are sent during the rounds, while, at random moments, workers and beat are ``kill -9``-ed
and replaced, a worker is stopped with SIGTERM, Redis is ``kill -9``-ed and restarted from its
append-only file (``appendfsync always``), stalls (clients paused, or the server blocked), fills up to
its maxmemory and has every connection cut, the simulator hangs past the read timeout, drops
connections (before and after creating the messages), answers 500/502/503/429, and delivery callbacks
come twice or late; with libfaketime installed, the workers' and beat's clocks are off (100 s behind,
30 s ahead). Afterwards, from our store and from the simulator's message and request logs: every
accepted message is in exactly one final state (none lost, none stuck), no provider created any
message twice, no RCS message got two SMS, every failed RCS message got its SMS, no scheduled message
left early, our final states agree with the provider's, and every worker and beat started is still
running unless the test killed or stopped it.

Reduced scale (what ``make test`` runs, ~4,000 messages, 3 rounds)::

    .venv/bin/pytest tests/chaos -s

Full scale, alone::

    DISPATCHER_CHAOS_MESSAGES=100000 DISPATCHER_CHAOS_ROUNDS=6 \\
        .venv/bin/pytest tests/chaos -s -p no:cacheprovider -o timeout=1800

Replay a run: ``DISPATCHER_CHAOS_SEED=<the printed seed>`` (the faults' order and kinds repeat; their
exact moments against the traffic cannot). With ``-s`` the run prints one JSON line of figures.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import redis
from click.testing import CliRunner

from dispatcher import Dispatcher
from dispatcher.accounts import Account
from dispatcher.cli.campaign import campaign_audit
from dispatcher.simulator.client import SimulatorClient
from dispatcher.store import Store
from dispatcher.store.keys import Keys
from dispatcher.store.states import FINAL_STATES
from tests.chaos.audit import ProviderView, StoreView, read_records
from tests.chaos.callbacks import CallbackReplayer
from tests.chaos.intake import Intake
from tests.chaos.monkey import (
    BSG_MESSAGES,
    BSG_SEND,
    FULL_SCALE_STALL_S,
    REVICOM_MESSAGES,
    STALL_S,
    ChaosMonkey,
)
from tests.chaos.scale import ChaosScale
from tests.integration.worker_fixtures import PipelineProcesses
from tests.redis_servers import RestartableRedis

pytestmark = pytest.mark.integration

WORKERS = 2
#: Time kept back from the test's timeout for the checks and the figures after settling.
CHECK_MARGIN_S = 15.0
#: From this many messages on, a run counts as full scale: Redis stalls reach 12 s.
FULL_SCALE_MESSAGES = 50_000


@pytest.fixture
def scale() -> ChaosScale:
    chosen = ChaosScale.from_environment()
    # Printed first, so that even a run that hangs can be replayed.
    print(f"chaos: seed {chosen.seed} (replay with DISPATCHER_CHAOS_SEED={chosen.seed})", flush=True)
    return chosen


@pytest.fixture
def replayer(sim: SimulatorClient, scale: ChaosScale) -> Iterator[CallbackReplayer]:
    callbacks = CallbackReplayer(sim, random.Random(scale.seed + 1))
    yield callbacks
    callbacks.close()


def _timeout_s(config: pytest.Config) -> float:
    chosen = config.getoption("timeout", None) or config.getini("timeout")
    return float(chosen or 0) or 3600.0


def _settled(
    client: redis.Redis, keys: Keys, intake: Intake, sim: SimulatorClient, callbacks: CallbackReplayer
) -> tuple[bool, str]:
    """Whether the run has come to rest, and if not, what is still moving."""
    callbacks.read_log()
    waiting = callbacks.redeliver()
    view = StoreView.read(client, keys, intake.ids)
    if view.lost or view.stuck or view.fallbacks_pending or waiting:
        return False, (
            f"{len(view.lost)} lost, {len(view.stuck)} not final {dict(Counter(view.stuck.values()))}, "
            f"{view.fallbacks_pending} fallbacks pending, {waiting} callbacks to redeliver"
        )
    # Only once our side looks done: reading the provider's whole log is the expensive part.
    provider = ProviderView.read(sim.messages(), client, keys)
    not_final, disagreements = provider.not_final(), provider.disagreements(view)
    if not_final or disagreements:
        return False, f"{not_final} provider messages not final, {len(disagreements)} disagree with ours"
    return True, "settled"


def _early_sends(created: list[dict[str, Any]], not_before: dict[str, float]) -> list[str]:
    """Messages the provider created before their send time (by destination: a scheduled RCS
    number's fallback SMS is due after the RCS send time, so it is held to it too)."""
    return [
        f"{m['provider']} to {m['destination']}: {not_before[m['destination']] - m['created_at']:.3f} s early"
        for m in created
        if m["destination"] in not_before and m["created_at"] < not_before[m["destination"]]
    ]


def test_nothing_is_lost_or_sent_twice_through_kills_redis_restarts_and_provider_faults(
    request: pytest.FixtureRequest,
    scale: ChaosScale,
    store: Store,
    redis_client: redis.Redis,
    key_prefix: str,
    accounts: dict[str, Account],
    sim: SimulatorClient,
    pipeline: PipelineProcesses,
    api: str,
    chaos_redis: RestartableRedis,
    replayer: CallbackReplayer,
) -> None:
    began = time.monotonic()
    settle_ends = began + (scale.settle_s or _timeout_s(request.config) - CHECK_MARGIN_S)
    rng = random.Random(scale.seed)
    # Paced so that the campaign is still going when the last round ends: faults hit live traffic.
    revicom_rate = max(100, int((scale.campaign + scale.scheduled) / (scale.chaos_s * 0.8)))
    pipeline.use_limits(
        "revicom",
        messages_per_s=revicom_rate,
        requests_per_s=max(10, revicom_rate // 20),
        burst=revicom_rate,
        transactional_reserve=0.2,
    )
    sim.configure(
        callback_delay_s=[0.1, 0.6],
        outcomes={
            "revicom": {"delivered": 0.87, "undelivered": 0.1, "unsent": 0.03},
            "bsg": {
                "delivered": 0.45,
                "read": 0.1,
                "undelivered": 0.15,
                "expired": 0.1,
                "not_service_user": 0.15,
                "failed": 0.05,
            },
        },
    )
    keys = Keys(key_prefix)
    stall_s = FULL_SCALE_STALL_S if scale.messages >= FULL_SCALE_MESSAGES else STALL_S
    monkey = ChaosMonkey(rng, sim, pipeline, chaos_redis, replayer, workers=WORKERS, stall_s=stall_s)
    try:
        monkey.start()
        producer = Dispatcher(store, accounts, pipeline.settings, tasks=pipeline.tasks)
        intake = Intake()
        intake.before_rounds(producer, scale, rng)
        intake_s = time.monotonic() - began

        during = intake.during_rounds(producer, scale, rng)
        redis_round, beat_round = rng.randrange(scale.rounds), rng.randrange(scale.rounds)
        for index in range(scale.rounds):
            monkey.run_round(
                scale.round_s,
                kill_beat=index == beat_round or rng.random() < 0.4,
                restart_redis=index == redis_round or rng.random() < 0.3,
            )
        during.stop()
        monkey.calm()
        chaos_ended = time.monotonic()

        while True:
            done, progress = _settled(redis_client, keys, intake, sim, replayer)
            if done or time.monotonic() > settle_ends:
                break
            monkey.supervise()
            time.sleep(1.0)
        settle_s = time.monotonic() - chaos_ended
    finally:
        monkey.close()

    view = StoreView.read(redis_client, keys, intake.ids)
    provider = ProviderView.read(sim.messages(), redis_client, keys)
    requests_log = sim.requests()
    audits = [
        CliRunner().invoke(campaign_audit, [campaign_id], env=pipeline.env)
        for campaign_id in intake.campaign_ids
    ]
    unknown = read_records(redis_client, keys, intake.unknown)
    unknown_not_final = [
        i for i, record in unknown.items() if record is not None and record.state not in FINAL_STATES
    ]
    duplicates = provider.duplicates()
    fallback_duplicates = provider.fallback_duplicates(intake.rcs_numbers)
    unknown_to_us = provider.unknown_to_us()
    phantoms = provider.phantoms(view)
    disagreements = provider.disagreements(view)
    early = _early_sends(provider.created, intake.not_before)
    lookups = sum(
        r["method"] == "GET" and r["path"] in (REVICOM_MESSAGES, BSG_MESSAGES) for r in requests_log
    )
    figures = {
        "seed": scale.seed,
        "messages": intake.total,
        "fallback_sms": len(view.records["fallback"]),
        "rounds": scale.rounds,
        "faults_injected": dict(monkey.figures.faults),
        "faults_fired": dict(Counter(r["fault"] for r in requests_log if r["fault"])),
        "clocks": monkey.clocks,
        "worker_kills": monkey.figures.worker_kills,
        "worker_sigterms": monkey.figures.worker_sigterms,
        "beat_kills": monkey.figures.beat_kills,
        "redis_restarts": monkey.figures.redis_restarts,
        "redis_down_s": monkey.figures.redis_down_s,
        "redis_stalls_s": monkey.figures.redis_stalls_s,
        "redis_blocks_s": monkey.figures.redis_blocks_s,
        "redis_full_s": monkey.figures.redis_full_s,
        "connection_drops": monkey.figures.connection_drops,
        "intake_failures": intake.failures,
        "intake_unknown_ids": len(intake.unknown),
        "intake_unknown_stored": sum(record is not None for record in unknown.values()),
        "worker_exits_on_their_own": monkey.figures.worker_exits,
        "beat_exits_on_their_own": monkey.figures.beat_exits,
        "callbacks": {
            "duplicated": replayer.duplicated,
            "out_of_order": replayer.out_of_order,
            "redelivered": replayer.redelivered,
            "answers": dict(replayer.answers),
        },
        "provider_requests": len(requests_log),
        "reconcile_lookups": lookups,
        "bsg_duplicate_refusals": sum(
            r["path"] == BSG_SEND and r["status"] == 429 and not r["fault"] for r in requests_log
        ),
        "lost": len(view.lost),
        "stuck": len(view.stuck),
        "duplicates": len(duplicates),
        "fallback_sms_duplicates": len(fallback_duplicates),
        "sent_but_unknown_to_us": len(unknown_to_us),
        "disagreements": len(disagreements),
        "early_sends": len(early),
        "final_states": view.states(),
        "intake_s": round(intake_s, 2),
        "settle_s": round(settle_s, 2),
        "wall_s": round(time.monotonic() - began, 2),
    }
    print(orjson.dumps(figures).decode(), flush=True)

    assert done, f"not settled {settle_s:.0f} s after the last fault: {progress}"
    assert not view.lost, f"accepted but no record: {view.lost[:10]}"
    assert not view.stuck, f"not in a final state: {dict(list(view.stuck.items())[:10])}"
    assert not duplicates, f"created twice at a provider: {duplicates[:10]}"
    assert not fallback_duplicates, f"more than one fallback SMS: {fallback_duplicates[:10]}"
    assert not unknown_to_us, f"created at a provider, no record of ours has its id: {unknown_to_us[:10]}"
    assert not phantoms, f"our provider id names nothing the provider created: {phantoms[:10]}"
    assert not disagreements, f"our final state is not the provider's: {disagreements[:10]}"
    assert not view.missing_fallbacks, f"RCS failed, no SMS fallback: {view.missing_fallbacks[:10]}"
    assert not view.unlinked_fallbacks, f"fallback SMS not linked to its RCS: {view.unlinked_fallbacks[:10]}"
    assert not early, f"scheduled messages sent before their time: {early[:10]}"
    assert "500" not in replayer.answers, f"the callback API answered 500: {dict(replayer.answers)}"
    assert not unknown_not_final, (
        f"an id named unknown was stored and did not finish: {unknown_not_final[:10]}"
    )
    for audit in audits:
        assert audit.exit_code == 0, audit.output
    assert not monkey.figures.worker_exits, f"workers exited on their own: {monkey.figures.worker_exits}"
    assert not monkey.figures.beat_exits, f"beat exited on its own: {monkey.figures.beat_exits}"
    # The chaos must have happened, or the checks above prove nothing.
    assert monkey.figures.worker_kills >= scale.rounds
    assert monkey.figures.beat_kills >= 1
    assert monkey.figures.redis_restarts >= 1
    assert monkey.figures.redis_full_s, "Redis never filled up"
    assert monkey.figures.redis_stalls_s or monkey.figures.redis_blocks_s, "Redis never stalled"
    assert monkey.figures.worker_sigterms >= scale.rounds
    assert figures["faults_fired"], "no fault reached a request"
    assert lookups, "no ambiguous outcome was reconciled"
    assert figures["fallback_sms"], "no RCS message fell back to SMS"

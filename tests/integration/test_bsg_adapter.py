"""The BSG adapter against the simulator over HTTP: auth, send outcomes, duplicates, lookup, faults."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from dispatcher.accounts import Account, BsgAccount
from dispatcher.errors import BadCredentials, DuplicateSubmission, RateLimited, ResponseTimedOut
from dispatcher.models.bsg import BsgRcs
from dispatcher.models.common import build
from dispatcher.providers.bsg import BsgAdapter, wire_message
from dispatcher.providers.outcomes import Rejected, Submitted
from dispatcher.simulator.client import SimulatorClient
from tests.provider_examples import bsg_rcs_request
from tests.support import account_copy

pytestmark = pytest.mark.integration

SEND = "/bsg/api/messages/rcs/send"
LOGIN = "/bsg/api/auth/login"
REFRESH = "/bsg/api/auth/refresh"


@pytest.fixture
def adapter(accounts: dict[str, Account]) -> Iterator[BsgAdapter]:
    bsg = BsgAdapter(account_copy(accounts, "bsg", BsgAccount))
    yield bsg
    bsg.close()


def _message(reference_id: str | None = None, **changes: Any) -> BsgRcs:
    return build(BsgRcs, bsg_rcs_request(reference_id or secrets.token_hex(8), **changes))


def _paths(sim: SimulatorClient) -> list[str]:
    return [entry["path"] for entry in sim.requests()]


def test_bsg_documented_example_is_accepted_with_its_exact_body(
    sim: SimulatorClient, adapter: BsgAdapter
) -> None:
    message = _message()

    outcome = adapter.send(message)

    assert isinstance(outcome, Submitted)
    sends = sim.requests(path=SEND)
    assert [entry["body"] for entry in sends] == [wire_message(message)]
    assert sends[0]["status"] in (200, 201)
    assert _paths(sim) == [LOGIN, SEND]


def test_bsg_send_is_authorised_by_the_bearer_from_login(sim: SimulatorClient, adapter: BsgAdapter) -> None:
    adapter.send(_message())

    login, send = sim.requests()
    assert login["body"] == {"api_key": "***"}  # the simulator's log masks the key
    assert login["status"] == 200
    assert send["auth_scheme"] == "Bearer"
    assert send["status"] in (200, 201)


def test_bsg_wrong_api_key_is_bad_credentials(
    sim: SimulatorClient, accounts: dict[str, Account], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPATCHER_BSG_API_KEY", "live_" + secrets.token_hex(16))
    adapter = BsgAdapter(account_copy(accounts, "bsg", BsgAccount))

    with pytest.raises(BadCredentials):
        adapter.send(_message())

    assert SEND not in _paths(sim)


def test_bsg_token_near_expiry_is_refreshed_before_sending(
    sim: SimulatorClient, accounts: dict[str, Account]
) -> None:
    sim.configure(jwt_lifetime_s=3)
    adapter = BsgAdapter(account_copy(accounts, "bsg", BsgAccount, refresh_margin_s=2.5))
    assert isinstance(adapter.send(_message()), Submitted)

    time.sleep(1.0)
    second = adapter.send(_message())

    assert isinstance(second, Submitted)
    assert _paths(sim) == [LOGIN, SEND, REFRESH, SEND]
    assert all(entry["status"] in (200, 201) for entry in sim.requests(path=SEND))


def test_bsg_expired_token_is_replaced_by_a_new_login_after_a_401(
    sim: SimulatorClient, accounts: dict[str, Account]
) -> None:
    sim.configure(jwt_lifetime_s=1)
    # A clock an hour behind: the adapter believes its token is fresh, so only the 401 can tell it.
    adapter = BsgAdapter(
        account_copy(accounts, "bsg", BsgAccount, refresh_margin_s=0), clock=lambda: time.time() - 3600
    )
    assert isinstance(adapter.send(_message()), Submitted)

    time.sleep(1.5)
    second = adapter.send(_message())

    assert isinstance(second, Submitted)
    assert _paths(sim) == [LOGIN, SEND, SEND, LOGIN, SEND]
    assert [entry["status"] for entry in sim.requests(path=SEND)][1] == 401


def test_bsg_threads_sharing_an_adapter_log_in_once(sim: SimulatorClient, adapter: BsgAdapter) -> None:
    outcomes: list[object] = []
    start = threading.Barrier(8)

    def send_one() -> None:
        start.wait()
        outcomes.append(adapter.send(_message()))

    threads = [threading.Thread(target=send_one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(outcomes) == 8
    assert all(isinstance(outcome, Submitted) for outcome in outcomes)
    assert _paths(sim).count(LOGIN) == 1


def test_bsg_reused_reference_id_is_a_duplicate_and_lookup_finds_the_original(
    sim: SimulatorClient, adapter: BsgAdapter
) -> None:
    reference_id = secrets.token_hex(8)
    first = adapter.send(_message(reference_id))
    assert isinstance(first, Submitted)

    with pytest.raises(DuplicateSubmission):
        adapter.send(_message(reference_id))

    found = adapter.lookup(reference_id)
    assert sim.requests(path="/bsg/api/messages")[-1]["query"] == [["filter[reference_id]", reference_id]]
    assert found is not None
    assert found.provider_message_id == first.provider_message_id
    assert found.reference_id == reference_id
    assert len(sim.requests(path=SEND)) == 2


def test_bsg_lookup_of_an_unknown_reference_id_finds_nothing(
    sim: SimulatorClient, adapter: BsgAdapter
) -> None:
    adapter.send(_message())

    assert adapter.lookup(secrets.token_hex(8)) is None


def test_bsg_refused_field_is_rejected_naming_it(sim: SimulatorClient, adapter: BsgAdapter) -> None:
    # Our model refuses a 41-character sender; model_copy skips validation so the provider sees one.
    message = _message().model_copy(update={"sender": "s" * 41})

    outcome = adapter.send(message)

    assert isinstance(outcome, Rejected)
    assert outcome.code == "422"
    assert "sender" in outcome.reason
    assert sim.requests(path=SEND)[-1]["status"] == 422


def test_bsg_throttling_429_stays_rate_limited(sim: SimulatorClient, adapter: BsgAdapter) -> None:
    sim.add_fault(path=SEND, kind="rate_limit", retry_after=3, count=1)

    with pytest.raises(RateLimited) as caught:
        adapter.send(_message())

    assert caught.value.retry_after_s == 3.0


def test_bsg_hang_past_the_read_timeout_is_response_timed_out(
    sim: SimulatorClient, accounts: dict[str, Account]
) -> None:
    sim.add_fault(path=SEND, kind="hang", seconds=3, count=1)
    adapter = BsgAdapter(account_copy(accounts, "bsg", BsgAccount, read_timeout_s=0.5))

    started = time.monotonic()
    with pytest.raises(ResponseTimedOut):
        adapter.send(_message())

    assert time.monotonic() - started < 2.5

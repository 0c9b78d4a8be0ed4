"""Delivery callbacks in: `POST /v1/callbacks/{provider}/{secret}` against a real Redis, with the
simulator sending its real callbacks to the API, a real worker and a real beat."""

from __future__ import annotations

import time
import urllib.parse

import orjson
import pytest
import requests

from dispatcher import Dispatcher
from dispatcher.accounts import Account
from dispatcher.models.revicom import RevicomSms
from dispatcher.providers.outcomes import Submitted
from dispatcher.simulator.client import SimulatorClient
from dispatcher.store import NewMessage, Store
from tests.integration.api_fixtures import CALLBACK_SECRET, api, api_port, pipeline_env
from tests.integration.worker_fixtures import PipelineProcesses, numbers, revicom_sms, wait_for

__all__ = ["api", "api_port", "pipeline_env"]  # fixtures used by name
pytestmark = pytest.mark.integration

REVICOM_EVENT = {
    "message_uuid": "uuid-1",
    "channel_type": "SMS",
    "callback_event": "delivered",
    "status": "delivered",
    "status_time": "2025-01-01T00:00:00Z",
}
GARBAGE = [b"", b"\xff\xfe", b"{", b"[1, 2]", b"null", b'{"status": 5}', b"message_id=&message_state=x" * 3]


def submitted_message(store: Store, account: str, provider_id: str) -> str:
    """A message stored, taken, posted and recorded as submitted under ``provider_id``."""
    now = time.time()
    lane = f"{account}:transactional"
    message = NewMessage(
        f"{int(now * 1000):011x}{provider_id[-11:]:0>11}",
        lane,
        account,
        revicom_sms("79160000001"),
        600,
    )
    store.add_messages([message])
    batch = store.take_batch(lane, max_size=1, worker="test", take_timeout_s=30)
    assert batch is not None
    store.mark_posting(batch.id, tag="t", reclaim_after_s=30)
    store.record_outcomes(batch.id, [(message.id, Submitted(provider_id))], account=account)
    return message.id


def post(
    api: str, provider: str, body: bytes, *, secret: str = CALLBACK_SECRET, form: bool = False
) -> requests.Response:
    content_type = "application/x-www-form-urlencoded" if form else "application/json"
    return requests.post(
        f"{api}/v1/callbacks/{provider}/{secret}",
        data=body,
        headers={"Content-Type": content_type},
        timeout=5,
    )


def revicom_events(provider_id: str, *statuses: str) -> bytes:
    return orjson.dumps(
        [{**REVICOM_EVENT, "message_uuid": provider_id, "callback_event": s, "status": s} for s in statuses]
    )


@pytest.mark.parametrize("provider", ["revicom", "bsg", "smartswitch"])
def test_garbage_wrong_secrets_and_unknown_ids_change_nothing_and_never_500(
    store: Store, api: str, provider: str
) -> None:
    message_id = submitted_message(store, provider, "p1234567")
    before = store.get(message_id)
    valid = {
        "revicom": revicom_events("p1234567", "delivered"),
        "bsg": orjson.dumps(
            {
                "id": "1234567",
                "msisdn": "79160000001",
                "status": "delivered",
                "time_in": "2025-01-01 00:00:00",
            }
        ),
        "smartswitch": b"message_id=p1234567&message_state=delivered",
    }[provider]

    statuses = [post(api, provider, body, form=provider == "smartswitch").status_code for body in GARBAGE]
    statuses.append(post(api, provider, valid, secret="x" * len(CALLBACK_SECRET)).status_code)
    statuses.append(post(api, provider, valid, secret="").status_code)
    unknown = valid.replace(b"p1234567", b"nothere1").replace(b"1234567", b"9999999")
    unknown_answer = post(api, provider, unknown, form=provider == "smartswitch")

    assert all(400 <= status < 500 for status in statuses), statuses
    assert unknown_answer.status_code == 200
    assert unknown_answer.json()["parked"] == 1
    assert store.get(message_id) == before


def test_callbacks_move_states_and_duplicates_change_nothing(store: Store, api: str) -> None:
    message_id = submitted_message(store, "revicom", "uuid-42")

    first = post(api, "revicom", revicom_events("uuid-42", "sent", "delivered", "read"))
    record = store.get(message_id)
    again = post(api, "revicom", revicom_events("uuid-42", "delivered", "sent"))
    after = store.get(message_id)

    assert first.json() == {"reports": 3, "moved": 3, "parked": 0, "fallbacks": 0}
    assert record is not None
    assert record.state == "read"
    assert again.json()["moved"] == 0
    assert after is not None
    assert after.state == "read"
    assert [t.target for t in after.history][-2:] == ["delivered", "sent"]
    assert all(t.reason.startswith("ignored:") for t in after.history[-2:])


def test_smartswitch_dlr_and_bsg_status_apply_through_the_api(store: Store, api: str) -> None:
    dlr_id = submitted_message(store, "smartswitch", "778899")
    rcs_id = submitted_message(store, "bsg", "112233")
    bsg_status = {
        "id": 112233,
        "msisdn": "79160000001",
        "status": "undelivered",
        "time_in": "2025-01-01 00:00:00",
    }

    post(api, "smartswitch", orjson.dumps({"message_id": "778899", "message_state": "delivered"}))
    post(api, "bsg", orjson.dumps(bsg_status))

    assert store.get(dlr_id).state == "delivered"  # type: ignore[union-attr]
    rcs = store.get(rcs_id)
    assert (
        rcs is not None and rcs.state == "undelivered" and rcs.reason == "callback undelivered error 1"
    ) or rcs.state == "undelivered"


def test_a_callback_before_its_record_is_applied_by_beat(
    store: Store, api: str, pipeline: PipelineProcesses
) -> None:
    pipeline.start_worker()
    pipeline.start_beat()
    parked = post(api, "revicom", revicom_events("early-1", "sent", "delivered"))
    assert parked.json()["parked"] == 2

    message_id = submitted_message(store, "revicom", "early-1")

    wait_for(lambda: store.get(message_id).state == "delivered", timeout_s=10, what="parked callback applied")  # type: ignore[union-attr]
    assert store.parked_reports() == 0


def test_simulator_callbacks_reach_every_revicom_message(
    store: Store, accounts: dict[str, Account], sim: SimulatorClient, pipeline: PipelineProcesses, api: str
) -> None:
    sim.configure(callback_delay_s=[0.05, 0.2], outcomes={"revicom": {"delivered": 1.0}})
    pipeline.start_worker()
    dispatcher = Dispatcher(store, accounts, pipeline.settings, tasks=pipeline.tasks)

    ids = dispatcher.send_many(
        [RevicomSms(destination=n, sender_name="SHOP", text="Hi") for n in numbers(20)]
    )

    wait_for(
        lambda: all(store.get(i).state == "delivered" for i in ids),  # type: ignore[union-attr]
        timeout_s=20,
        what="all delivered",
    )
    urls = {urllib.parse.urlsplit(c["url"]).path for c in sim.callbacks()}
    assert urls == {f"/v1/callbacks/revicom/{CALLBACK_SECRET}"}
    history = [t.target for t in store.get(ids[0]).history]  # type: ignore[union-attr]
    assert history[-2:] == ["sent", "delivered"]

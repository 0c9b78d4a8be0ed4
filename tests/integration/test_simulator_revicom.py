"""Revicom stand-in over real HTTP: documented examples, auth errors, every rule family, state."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from dispatcher.simulator.client import SimulatorClient
from dispatcher.simulator.receiver import CallbackReceiver
from tests.conftest import SimCredentials
from tests.provider_examples import (
    REVICOM_FLASHCALL_REQUEST,
    REVICOM_TIME_FORMAT,
    REVICOM_VOICECODE_REQUEST,
    revicom_sms_request,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def revicom(sim: SimulatorClient, simulator_url: str, sim_credentials: SimCredentials) -> Any:
    """Revicom calls with the send token, against a freshly reset simulator."""
    session = requests.Session()
    session.headers["Authorization"] = f"Basic {sim_credentials.revicom_token}"
    base = f"{simulator_url}/revicom/api/v1"

    class Api:
        def send(self, items: Any, **kwargs: Any) -> requests.Response:
            return session.post(f"{base}/message", json=items, timeout=10, **kwargs)

        def get(self, **params: Any) -> requests.Response:
            return session.get(f"{base}/message", params=params, timeout=10)

        def stop(self, uuids: list[str]) -> requests.Response:
            return session.post(f"{base}/message/stop", json={"uuids": uuids}, timeout=10)

    yield Api()
    session.close()


def wait_until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout_s} s")
        time.sleep(0.05)


def sms_sent_now() -> dict[str, Any]:
    """The documented SMS example, its send time now."""
    return revicom_sms_request(datetime.now(UTC))


VK = {"channelType": "VK", "senderName": "shop", "destination": "14085553911", "content": "Hello from VK"}


def test_documented_examples_are_accepted_in_one_mixed_request(revicom: Any) -> None:
    response = revicom.send([sms_sent_now(), REVICOM_VOICECODE_REQUEST, REVICOM_FLASHCALL_REQUEST, VK])
    assert response.status_code == 200
    body = response.json()
    assert body["errors"] is False
    assert [item["code"] for item in body["items"]] == [201, 201, 201, 201]
    assert len({item["messageUuid"] for item in body["items"]}) == 4


@pytest.mark.parametrize(
    ("header", "status", "expected"),
    [
        (None, 401, {"error": {"code": 4010, "msg": "Not Authenticated"}}),
        ("Bearer abc", 401, {"error": {"code": 4010, "msg": "Not Authenticated"}}),
        ("Basic a2V5Ondyb25n", 401, {"error": {"code": 4012, "msg": "Bad credentials"}}),
    ],
)
def test_bad_authorization_gets_documented_body(
    simulator_url: str, sim: SimulatorClient, header: str | None, status: int, expected: dict[str, Any]
) -> None:
    headers = {"Authorization": header} if header else {}
    response = requests.post(
        f"{simulator_url}/revicom/api/v1/message", json=[VK], headers=headers, timeout=10
    )
    assert response.status_code == status
    assert response.json() == expected
    assert sim.messages("revicom") == []


def test_token_of_other_type_is_denied_except_for_balance(
    simulator_url: str, sim_credentials: SimCredentials
) -> None:
    headers = {"Authorization": f"Basic {sim_credentials.revicom_other_token}"}
    send = requests.post(f"{simulator_url}/revicom/api/v1/message", json=[VK], headers=headers, timeout=10)
    assert send.status_code == 403
    assert send.json() == {"error": {"code": 4030, "msg": "Access Denied"}}
    balance = requests.get(f"{simulator_url}/revicom/api/v1/balance", headers=headers, timeout=10)
    assert balance.status_code == 200
    assert balance.json() == {"USD": 1200.0}


@pytest.mark.parametrize(
    ("change", "msg"),
    [
        ({"destination": "1408555391"}, "Invalid msisdn"),
        ({"content": ""}, "Invalid content"),
        ({"tags": ["no spaces allowed"]}, "Invalid tags"),
        ({"ttl": 10}, "Invalid ttl"),
        ({"hours": [25]}, "Invalid hours"),
        ({"days": [8]}, "Invalid days"),
        ({"localSendTime": "2020-01-01 18:00:00"}, "Invalid localSendTime"),
        ({"callbackUrl": "company.com/callback"}, "Invalid callbackUrl"),
        ({"callbackEvents": ["opened"]}, "Invalid callbackEvents"),
        ({"shortUrl": "true"}, "Invalid shortUrl"),
        ({"priority": 1}, "Unknown field priority"),
    ],
)
def test_invalid_item_refuses_whole_request_with_4220(
    revicom: Any, sim: SimulatorClient, change: dict[str, Any], msg: str
) -> None:
    response = revicom.send([VK, {**sms_sent_now(), **change}])
    assert response.status_code == 422
    assert response.json() == {"error": {"code": 4220, "msg": msg}}
    assert sim.messages("revicom") == []


def test_more_than_1000_items_are_refused(revicom: Any) -> None:
    response = revicom.send([VK] * 1001)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == 4220


def test_per_item_refusals_leave_the_rest_created(revicom: Any, sim: SimulatorClient) -> None:
    sim.configure(revicom_approved_senders=["SENDER"], blocked_numbers=["14085553912"])
    unapproved = {**sms_sent_now(), "senderName": "OTHER"}
    blocked = {**VK, "destination": "14085553912"}
    whatsapp = {
        "channelType": "WHATSAPP",
        "senderName": "wa",
        "destination": "14085553911",
        "content": {"text": "x"},
    }
    body = revicom.send([sms_sent_now(), unapproved, blocked, whatsapp]).json()
    assert body["errors"] is True
    codes = [item["code"] for item in body["items"]]
    assert codes[0] == 201
    assert all(code != 201 for code in codes[1:])
    assert [item["messageUuid"] is None for item in body["items"]] == [False, True, True, True]
    assert len(sim.messages("revicom")) == 1


def test_get_by_tag_returns_documented_message_fields(revicom: Any) -> None:
    created = revicom.send([{**VK, "tags": ["req42"]}, {**VK, "tags": ["other"]}]).json()["items"][0]
    items = revicom.get(tags="req42").json()["items"]
    assert [item["messageUuid"] for item in items] == [created["messageUuid"]]
    assert set(items[0]) >= {
        "messageUuid",
        "externalMessageId",
        "channelType",
        "senderName",
        "destination",
        "content",
        "totalParts",
        "price",
        "sentTime",
        "statusTime",
        "status",
        "errorCode",
    }
    assert set(items[0]["price"]) == {"totalPrice", "currency", "invoicedParts", "final"}


def test_get_filters_by_uuid_destination_and_status_and_bounds_the_page_window(revicom: Any) -> None:
    first, _ = revicom.send([VK, {**VK, "destination": "14085553912"}]).json()["items"]
    assert len(revicom.get(message_uuid=first["messageUuid"]).json()["items"]) == 1
    assert len(revicom.get(destination="14085553912").json()["items"]) == 1
    assert revicom.get(status="delivered").json()["items"] == []
    refused = revicom.get(page=101, per_page=100)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == 4220


def test_stop_codes_and_stopped_message_becomes_unsent(revicom: Any, sim: SimulatorClient) -> None:
    sim.configure(callback_delay_s=[0, 0.05])
    later = (datetime.now(UTC) + timedelta(hours=1)).strftime(REVICOM_TIME_FORMAT)
    scheduled, immediate = revicom.send([{**sms_sent_now(), "localSendTime": later}, VK]).json()["items"]
    wait_until(lambda: any(m["sent_at"] for m in sim.messages("revicom")))
    response = revicom.stop([scheduled["messageUuid"], immediate["messageUuid"], "no-such-uuid"])
    assert response.status_code == 200
    assert [item["code"] for item in response.json()["items"]] == [200, 403, 404]
    assert response.json()["errors"] is True
    assert len(revicom.stop(["x"] * 10_001).json()["error"]) == 2


def test_stopped_scheduled_message_ends_unsent_when_its_time_comes(
    revicom: Any, sim: SimulatorClient
) -> None:
    sim.configure(callback_delay_s=[0, 0])
    soon = (datetime.now(UTC) + timedelta(seconds=1)).strftime(REVICOM_TIME_FORMAT)
    created = revicom.send([{**sms_sent_now(), "localSendTime": soon}]).json()["items"][0]
    assert revicom.stop([created["messageUuid"]]).json()["items"][0]["code"] == 200
    wait_until(lambda: sim.messages("revicom")[0]["final"])
    assert sim.messages("revicom")[0]["status"] == "unsent"


def test_callbacks_arrive_as_one_json_array_per_url(revicom: Any, sim: SimulatorClient) -> None:
    sim.configure(callback_delay_s=[0.1, 0.1], outcomes={"revicom": {"delivered": 1}})
    with CallbackReceiver() as receiver:
        item = {**VK, "callbackUrl": receiver.url, "callbackEvents": ["sent", "delivered"]}
        uuids = {i["messageUuid"] for i in revicom.send([item, item]).json()["items"]}
        posts = receiver.wait_for(2)
    sent, delivered = posts[0].json(), posts[1].json()
    assert isinstance(sent, list)
    assert {event["message_uuid"] for event in sent} == uuids
    assert {event["callback_event"] for event in sent} == {"sent"}
    assert {(event["callback_event"], event["status"]) for event in delivered} == {("delivered", "delivered")}
    assert set(delivered[0]) >= {"message_uuid", "channel_type", "callback_event", "status", "status_time"}
    assert delivered[0]["channel_type"] == "VK"
    assert sim.callbacks()[0]["status"] == 200


def test_default_callback_event_is_delivered_only(revicom: Any, sim: SimulatorClient) -> None:
    sim.configure(callback_delay_s=[0.05, 0.05], outcomes={"revicom": {"undelivered": 1}})
    with CallbackReceiver() as receiver:
        revicom.send([{**VK, "callbackUrl": receiver.url}])
        [post] = receiver.wait_for(1)
        time.sleep(0.3)
        assert len(receiver.posts) == 1
    [event] = post.json()
    assert (event["callback_event"], event["status"]) == ("delivered", "undelivered")
    assert isinstance(event["error_code"], int)


def test_non_loopback_callback_urls_are_recorded_but_never_contacted(
    revicom: Any, sim: SimulatorClient
) -> None:
    sim.configure(callback_delay_s=[0, 0])
    revicom.send([REVICOM_FLASHCALL_REQUEST])
    wait_until(lambda: bool(sim.callbacks()))
    record = sim.callbacks()[0]
    assert record["status"] is None
    assert "loopback" in record["error"]

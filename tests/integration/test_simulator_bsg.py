"""BSG stand-in over real HTTP: JWT auth, the documented RCS example, rules, idempotency, callbacks."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from dispatcher.simulator.client import SimulatorClient
from dispatcher.simulator.receiver import CallbackReceiver
from tests.conftest import SimCredentials
from tests.provider_examples import bsg_rcs_request

pytestmark = pytest.mark.integration


@pytest.fixture
def bsg(sim: SimulatorClient, simulator_url: str, sim_credentials: SimCredentials) -> Any:
    base = f"{simulator_url}/bsg/api"

    class Api:
        base_url = base

        def login(self, api_key: str = sim_credentials.bsg_api_key) -> requests.Response:
            return requests.post(f"{base}/auth/login", json={"api_key": api_key}, timeout=10)

        def bearer(self) -> str:
            token: str = self.login().json()["bearer"]
            return token

        def send(self, body: Any, token: str | None = None) -> requests.Response:
            headers = {"Authorization": f"Bearer {token or self.bearer()}"}
            return requests.post(f"{base}/messages/rcs/send", json=body, headers=headers, timeout=10)

    return Api()


def test_documented_example_is_accepted_with_documented_response(bsg: Any) -> None:
    response = bsg.send(bsg_rcs_request("ref0001"))
    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) == {
        "id",
        "reference_id",
        "source",
        "type",
        "phone",
        "status",
        "validity",
        "amount",
        "sender",
        "created_at",
        "sent_at",
        "delivered_at",
    }
    assert (data["reference_id"], data["source"], data["type"], data["phone"]) == (
        "ref0001",
        "rest",
        "rcs",
        380661231231,
    )
    assert data["status"] == "accepted"
    assert isinstance(data["id"], int)
    assert set(data["amount"]) == {"value", "currency"}


def test_bad_api_key_and_bad_bearer_get_401(bsg: Any) -> None:
    assert bsg.login("live_wrong").status_code == 401
    response = bsg.send(bsg_rcs_request(), token="not.a.jwt")
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthenticated."}


def test_expired_jwt_is_refused_and_refresh_gives_a_working_one(bsg: Any, sim: SimulatorClient) -> None:
    sim.configure(jwt_lifetime_s=1)
    token = bsg.bearer()
    refreshed = requests.post(
        f"{bsg.base_url}/auth/refresh", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert refreshed.status_code == 200
    time.sleep(2.1)
    assert bsg.send(bsg_rcs_request("a1"), token=token).status_code == 401
    late = requests.post(
        f"{bsg.base_url}/auth/refresh", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert late.status_code == 401


def test_reused_reference_id_gets_429_and_creates_nothing(bsg: Any, sim: SimulatorClient) -> None:
    token = bsg.bearer()
    assert bsg.send(bsg_rcs_request("dup1"), token).status_code == 200
    response = bsg.send(bsg_rcs_request("dup1"), token)
    assert response.status_code == 429
    assert response.json() == {"message": "Too many duplicate request detected"}
    assert len(sim.messages("bsg")) == 1


def test_rule_violations_get_422_with_field_errors(bsg: Any, sim: SimulatorClient) -> None:
    body = bsg_rcs_request()
    body["phone"]["number"] = "12345"
    body["options"]["cards"][0]["suggestions"][0]["text"] = "x" * 26
    body["validity"] = 5
    response = bsg.send(body)
    assert response.status_code == 422
    payload = response.json()
    assert payload["message"] == "The given data was invalid."
    assert {"phone.number", "options.cards.0.suggestions.0.text", "validity"} <= set(payload["errors"])
    assert all(isinstance(messages, list) and messages for messages in payload["errors"].values())
    assert sim.messages("bsg") == []


def test_lookup_by_reference_id_and_by_id_returns_same_shape(bsg: Any) -> None:
    token = bsg.bearer()
    created = bsg.send(bsg_rcs_request("look1"), token).json()["data"]
    headers = {"Authorization": f"Bearer {token}"}
    listed = requests.get(
        f"{bsg.base_url}/messages", params={"reference_id": "look1"}, headers=headers, timeout=10
    )
    assert [item["id"] for item in listed.json()["data"]] == [created["id"]]
    one = requests.get(f"{bsg.base_url}/messages/{created['id']}", headers=headers, timeout=10).json()["data"]
    assert set(one) == set(created)
    missing = requests.get(
        f"{bsg.base_url}/messages", params={"reference_id": "none"}, headers=headers, timeout=10
    )
    assert missing.json() == {"data": []}


def test_status_callbacks_arrive_in_documented_shape(bsg: Any, sim: SimulatorClient) -> None:
    sim.configure(callback_delay_s=[0, 0.05], outcomes={"bsg": {"delivered": 1}})
    with CallbackReceiver() as receiver:
        body = {**bsg_rcs_request("cb1"), "callback_url": receiver.url}
        created = bsg.send(body).json()["data"]
        posts = receiver.wait_for(2)
    sent, delivered = posts[0].json(), posts[1].json()
    assert set(delivered) == {
        "error",
        "errorDescription",
        "id",
        "msisdn",
        "reference",
        "time_in",
        "time_sent",
        "time_dr",
        "status",
        "price",
        "currency",
    }
    assert (sent["status"], delivered["status"]) == ("sent", "delivered")
    assert delivered["id"] == str(created["id"])
    assert (delivered["reference"], delivered["msisdn"], delivered["error"]) == ("cb1", "380661231231", 0)

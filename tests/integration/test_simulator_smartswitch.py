"""Smartswitch stand-in over real HTTP: the documented examples, errors, URL limit and DLRs."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
import requests

from dispatcher.simulator.client import SimulatorClient
from dispatcher.simulator.receiver import CallbackReceiver
from tests.conftest import SimCredentials
from tests.provider_examples import (
    SMARTSWITCH_ERROR_RESPONSE,
    SMARTSWITCH_ONE_RECIPIENT_URL,
    SMARTSWITCH_TWO_RECIPIENTS_URL,
    smartswitch_recipient_params,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def send(sim: SimulatorClient, simulator_url: str, sim_credentials: SimCredentials) -> Any:
    credentials = [
        ("_login", sim_credentials.smartswitch_login),
        ("_password", sim_credentials.smartswitch_password),
    ]

    def post(pairs: list[tuple[str, str]], *, auth: bool = True) -> requests.Response:
        query = urlencode((credentials if auth else []) + pairs)
        return requests.post(f"{simulator_url}/smartswitch/api/message?{query}", timeout=10)

    return post


def test_documented_single_recipient_example_gets_data_object(send: Any) -> None:
    response = send([*smartswitch_recipient_params(SMARTSWITCH_ONE_RECIPIENT_URL), ("request_id", "1")])
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"data"}
    data = body["data"]
    assert data["type"] == "message"
    assert data["attributes"] == {"destination_number": "12123388100", "segments": 1, "status": "ok"}
    assert data["meta"] == {"request_id": "1"}
    assert data["id"].isdigit()


def test_documented_two_recipient_example_gets_data_array_in_order(send: Any) -> None:
    example = smartswitch_recipient_params(SMARTSWITCH_TWO_RECIPIENTS_URL)
    # The second body made long enough for two segments.
    response = send([*example[:4], ("body", "x" * 161), *example[5:]])
    data = response.json()["data"]
    assert [item["attributes"]["destination_number"] for item in data] == ["12123388100", "12123388101"]
    assert [item["attributes"]["segments"] for item in data] == [1, 2]
    assert data[0]["id"] != data[1]["id"]


def test_bad_password_gets_documented_authentication_error(send: Any, sim: SimulatorClient) -> None:
    response = send(
        [("_login", "x"), ("_password", "wrong"), ("destination_number", "12123388100")], auth=False
    )
    assert response.status_code == 401
    assert response.json() == SMARTSWITCH_ERROR_RESPONSE
    assert sim.messages("smartswitch") == []


@pytest.mark.parametrize(
    "pairs",
    [
        [("body", "before any number"), ("destination_number", "12123388100")],
        [("destination_number", "12123388100"), ("stealth_ping", "2")],
        [("destination_number", "not-a-number")],
        [("destination_number", "12123388100"), ("flash", "1")],
    ],
)
def test_invalid_parameters_get_validation_error_and_no_data(send: Any, pairs: list[tuple[str, str]]) -> None:
    body = send(pairs).json()
    assert "data" not in body
    assert body["errors"][0]["code"] == "validation"
    assert body["errors"][0]["detail"]


def test_url_over_the_limit_is_refused_with_414(send: Any, sim: SimulatorClient) -> None:
    sim.configure(max_url_bytes=1024)
    response = send([("destination_number", "12123388100"), ("body", "x" * 1100)])
    assert response.status_code == 414
    assert sim.messages("smartswitch") == []


def test_blocked_number_gets_status_error(send: Any, sim: SimulatorClient) -> None:
    sim.configure(blocked_numbers=["12123388101"])
    data = send([("destination_number", "12123388100"), ("destination_number", "12123388101")]).json()["data"]
    assert [item["attributes"]["status"] for item in data] == ["ok", "error"]


def test_cyrillic_ok_spelling_can_be_switched_on(send: Any, sim: SimulatorClient) -> None:
    sim.configure(smartswitch_ok_status="ок")
    assert send([("destination_number", "12123388100")]).json()["data"]["attributes"]["status"] == "ок"


def test_password_is_masked_in_request_log(
    send: Any, sim: SimulatorClient, sim_credentials: SimCredentials
) -> None:
    send([("destination_number", "12123388100")])
    [entry] = sim.requests(path="/smartswitch/api/message")
    assert ["_password", "***"] in entry["query"]
    assert sim_credentials.smartswitch_password not in str(entry)


@pytest.mark.parametrize("dlr_format", ["form", "json"])
def test_dlr_posted_to_configured_url_when_required(send: Any, sim: SimulatorClient, dlr_format: str) -> None:
    with CallbackReceiver() as receiver:
        sim.configure(
            callback_delay_s=[0, 0.05],
            outcomes={"smartswitch": {"delivered": 1}},
            smartswitch_dlr_url=receiver.url,
            smartswitch_dlr_format=dlr_format,
        )
        data = send(
            [
                ("destination_number", "12123388100"),
                ("require_dlr", "1"),
                ("destination_number", "12123388101"),
            ]
        ).json()["data"]
        [post] = receiver.wait_for(1)
    if dlr_format == "json":
        fields = post.json()
    else:
        fields = {key: value[0] for key, value in parse_qs(post.body.decode()).items()}
        assert post.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert fields == {"message_id": data[0]["id"], "message_state": "delivered"}

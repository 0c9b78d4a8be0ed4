"""The control API and fault injection, over real HTTP against the simulator process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

import pytest
import requests

from dispatcher.simulator.client import SimulatorClient, SimulatorError
from tests.conftest import SimCredentials

pytestmark = pytest.mark.integration

SEND_PATH = "/revicom/api/v1/message"
VK = {"channelType": "VK", "senderName": "shop", "destination": "14085553911", "content": "Hi"}


@pytest.fixture
def send(sim: SimulatorClient, simulator_url: str, sim_credentials: SimCredentials) -> Any:
    headers = {"Authorization": f"Basic {sim_credentials.revicom_token}"}

    def post(timeout: float = 10) -> requests.Response:
        return requests.post(f"{simulator_url}{SEND_PATH}", json=[VK], headers=headers, timeout=timeout)

    return post


def test_status_fault_applies_to_the_next_count_requests_only(send: Any, sim: SimulatorClient) -> None:
    sim.add_fault(path=SEND_PATH, kind="status", status=503, count=2)
    assert [send().status_code for _ in range(3)] == [503, 503, 200]
    assert len(sim.messages("revicom")) == 1
    assert [entry["fault"] for entry in sim.requests(path=SEND_PATH)] == ["status", "status", None]


def test_rate_limit_fault_sends_429_with_retry_after(send: Any, sim: SimulatorClient) -> None:
    sim.add_fault(path=SEND_PATH, kind="rate_limit", retry_after=2, count=1)
    response = send()
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert sim.messages("revicom") == []


def test_drop_before_processing_closes_connection_and_creates_nothing(
    send: Any, sim: SimulatorClient
) -> None:
    sim.add_fault(path=SEND_PATH, kind="drop", count=1)
    with pytest.raises(requests.ConnectionError):
        send()
    assert sim.messages("revicom") == []
    assert send().status_code == 200


def test_drop_after_processing_creates_the_message(send: Any, sim: SimulatorClient) -> None:
    sim.add_fault(path=SEND_PATH, kind="drop", count=1, after_processing=True)
    with pytest.raises(requests.ConnectionError):
        send()
    assert len(sim.messages("revicom")) == 1


def test_hang_after_processing_is_the_ambiguous_timeout(send: Any, sim: SimulatorClient) -> None:
    sim.add_fault(path=SEND_PATH, kind="hang", seconds=1.5, count=1, after_processing=True)
    with pytest.raises(requests.ReadTimeout):
        send(timeout=0.5)
    [message] = sim.messages("revicom")
    assert message["request_seq"] == sim.requests(path=SEND_PATH)[0]["seq"]


def test_hang_without_processing_creates_nothing(send: Any, sim: SimulatorClient) -> None:
    sim.add_fault(path=SEND_PATH, kind="hang", seconds=1.0, count=1)
    with pytest.raises(requests.ReadTimeout):
        send(timeout=0.3)
    time.sleep(1.0)
    assert sim.messages("revicom") == []


def test_latency_fault_delays_but_processes(send: Any, sim: SimulatorClient) -> None:
    sim.add_fault(path=SEND_PATH, kind="latency", seconds=0.3, count=1)
    started = time.monotonic()
    assert send().status_code == 200
    assert time.monotonic() - started >= 0.3


def test_clear_faults_and_reset_restore_normal_service(send: Any, sim: SimulatorClient) -> None:
    sim.add_fault(path=SEND_PATH, kind="status")
    assert send().status_code == 503
    sim.clear_faults()
    assert send().status_code == 200
    sim.add_fault(path=SEND_PATH, kind="status")
    sim.configure(blocked_numbers=["14085553911"])
    sim.reset()
    assert send().json()["items"][0]["code"] == 201
    assert len(sim.requests()) == 1


def test_request_log_records_order_body_status_and_filters_by_since(send: Any, sim: SimulatorClient) -> None:
    send()
    send()
    first, second = sim.requests()
    assert second["seq"] == first["seq"] + 1
    assert first["method"] == "POST"
    assert first["path"] == SEND_PATH
    assert first["body"] == [VK]
    assert first["status"] == 200
    assert isinstance(first["time"], float)
    assert [entry["seq"] for entry in sim.requests(since=first["seq"])] == [second["seq"]]
    assert sim.requests(path="/bsg/api/auth/login") == []


def test_bsg_api_key_is_masked_in_request_log(
    sim: SimulatorClient, simulator_url: str, sim_credentials: SimCredentials
) -> None:
    requests.post(
        f"{simulator_url}/bsg/api/auth/login", json={"api_key": sim_credentials.bsg_api_key}, timeout=10
    )
    [entry] = sim.requests()
    assert entry["body"] == {"api_key": "***"}


def test_invalid_config_and_fault_are_refused(sim: SimulatorClient) -> None:
    with pytest.raises(SimulatorError, match="outcomes"):
        sim.configure(outcomes={"revicom": {"exploded": 1}})
    with pytest.raises(SimulatorError, match="kind"):
        sim.add_fault(path=SEND_PATH, kind="meteor")


def test_command_exits_2_naming_missing_variables_without_values(sim_credentials: SimCredentials) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DISPATCHER_")}
    env["DISPATCHER_REVICOM_TOKEN"] = sim_credentials.revicom_token
    result = subprocess.run(
        [sys.executable, "-m", "dispatcher", "simulator", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "DISPATCHER_BSG_API_KEY" in result.stderr
    assert "DISPATCHER_SMARTSWITCH_PASSWORD" in result.stderr
    assert sim_credentials.revicom_token not in result.stderr + result.stdout

"""Security of the public surface: API keys on every producer route (enumerated from the app, so a
new route cannot be missed), the callback secret compared in constant time and checked before the
body is read, no number or credential in any log of a real end-to-end run, and Flower behind basic
auth from a secret in docker-compose.yml and deploy/.
"""

from __future__ import annotations

import base64
import hmac
import re
import socket
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from dispatcher.api import create_app
from dispatcher.simulator.client import SimulatorClient
from dispatcher.simulator.process import running_simulator
from dispatcher.webhooks.signing import new_secret
from tests.conftest import SimCredentials
from tests.integration.api_fixtures import free_port, serve
from tests.integration.worker_fixtures import PipelineProcesses, numbers, wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "sec-test-key-" + "k" * 24
OTHER_KEY = "sec-test-other-" + "o" * 24
SECRET = "sec-test-callback-" + "s" * 20


@pytest.fixture
def guarded_app_url() -> Iterator[tuple[str, list[APIRoute]]]:
    """An API with two keys and a callback secret (no store behind it: nothing here gets that far)."""
    app = create_app(None, secret=SECRET, dispatcher=object(), api_keys=[API_KEY, OTHER_KEY])  # type: ignore[arg-type]
    routes = list(_api_routes(app.routes))
    with serve(app, free_port()) as url:
        yield url, routes


def _api_routes(routes: Iterable[BaseRoute], prefix: str = "") -> Iterator[APIRoute]:
    """Every APIRoute, also inside included routers (FastAPI keeps those whole since ~0.13x)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route if not prefix else _prefixed(route, prefix)
        nested = getattr(route, "original_router", None)
        if nested is not None:
            yield from _api_routes(nested.routes, prefix + getattr(route.include_context, "prefix", ""))


def _prefixed(route: APIRoute, prefix: str) -> APIRoute:
    return APIRoute(prefix + route.path, route.endpoint, methods=route.methods)


def _producer_routes(routes: list[APIRoute]) -> list[tuple[str, str]]:
    found = []
    for route in routes:
        if route.path.startswith("/v1/") and not route.path.startswith("/v1/callbacks/"):
            path = re.sub(r"\{[^}]+\}", "x0123456789", route.path)
            found += [(method, path) for method in sorted(route.methods)]
    return found


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        f"Bearer {API_KEY[:-1]}",
        f"Bearer {API_KEY}x",
        f"bearer{API_KEY}",
        f"Basic {base64.b64encode(API_KEY.encode()).decode()}",
        f"Bearer {SECRET}",
    ],
)
def test_every_producer_route_of_the_app_refuses_a_missing_or_wrong_key(
    guarded_app_url: tuple[str, list[APIRoute]], authorization: str | None
) -> None:
    url, routes = guarded_app_url
    producer_routes = _producer_routes(routes)
    # The documented ones at least; any route added later is enumerated too.
    assert {("POST", "/v1/messages"), ("POST", "/v1/campaigns"), ("POST", "/v1/campaigns/upload")} <= set(
        producer_routes
    )
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, path in producer_routes:
        answer = requests.request(method, f"{url}{path}", json={}, headers=headers, timeout=5)

        assert answer.status_code == 401, (method, path, answer.text)
        assert answer.json() == {
            "error": {"code": "unauthorized", "message": "missing or wrong API key", "problems": []}
        }
        assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_every_v1_route_is_a_producer_route_or_the_callbacks(
    guarded_app_url: tuple[str, list[APIRoute]],
) -> None:
    _, routes = guarded_app_url
    # A /v1 route outside these two families would escape both the key check above and the callbacks'.
    for route in routes:
        if route.path.startswith("/v1/"):
            assert route.path.startswith(("/v1/messages", "/v1/campaigns", "/v1/callbacks/")), route.path


class CompareSpy:
    """Wraps ``hmac.compare_digest``, recording what it was asked to compare."""

    def __init__(self, real: Callable[[Any, Any], bool]) -> None:
        self.real = real
        self.calls: list[tuple[Any, Any]] = []

    def __call__(self, given: Any, expected: Any) -> bool:
        self.calls.append((given, expected))
        return self.real(given, expected)


@pytest.fixture
def compare_spy(monkeypatch: pytest.MonkeyPatch) -> CompareSpy:
    spy = CompareSpy(hmac.compare_digest)
    monkeypatch.setattr(hmac, "compare_digest", spy)
    return spy


def test_the_callback_secret_and_the_api_keys_are_compared_in_constant_time(
    guarded_app_url: tuple[str, list[APIRoute]], compare_spy: CompareSpy
) -> None:
    url, _ = guarded_app_url
    wrong = "w" * len(SECRET)

    callback = requests.post(f"{url}/v1/callbacks/revicom/{wrong}", data=b"[]", timeout=5)
    secret_calls, compare_spy.calls[:] = list(compare_spy.calls), []
    producer = requests.get(f"{url}/v1/messages/x", headers={"Authorization": "Bearer nope"}, timeout=5)

    assert callback.status_code == 401
    assert secret_calls == [(wrong.encode(), SECRET.encode())]
    assert producer.status_code == 401
    # Every configured key is compared, whatever matched: the timing says nothing about which one.
    assert compare_spy.calls == [(b"nope", API_KEY.encode()), (b"nope", OTHER_KEY.encode())]


def test_a_wrong_callback_secret_is_refused_before_the_body_is_read(
    guarded_app_url: tuple[str, list[APIRoute]],
) -> None:
    url, _ = guarded_app_url
    host, port = url.removeprefix("http://").split(":")
    head = (
        f"POST /v1/callbacks/revicom/{'w' * len(SECRET)} HTTP/1.1\r\nHost: t\r\n"
        "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(head)  # and not one byte of the announced body
        answer = connection.recv(65536)

    assert answer.startswith(b"HTTP/1.1 401 "), answer[:200]
    assert answer.endswith(b'{"error":"wrong secret"}')


# ---- no number and no credential in any log ------------------------------------------------------


@pytest.fixture(scope="module")
def simulator_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("security-simulator") / "simulator.log"


@pytest.fixture(scope="module")
def simulator_url(sim_credentials: SimCredentials, simulator_log: Path) -> Iterator[str]:
    """This module's own simulator, so that its whole log is this module's."""
    with running_simulator(sim_credentials.environment(), log_path=simulator_log) as url:
        yield url


@pytest.fixture
def api_port() -> int:
    return free_port()


@pytest.fixture
def pipeline_env(pipeline_env: dict[str, str], api_port: int, log_format: str) -> dict[str, str]:
    return {
        **pipeline_env,
        "DISPATCHER_API_KEYS": f"{OTHER_KEY},{API_KEY}",
        "DISPATCHER_CALLBACK_BASE_URL": f"http://127.0.0.1:{api_port}",
        "DISPATCHER_CALLBACK_SECRET": SECRET,
        "DISPATCHER_WEBHOOK_SECRET": new_secret(),
        "DISPATCHER_LOG_FORMAT": log_format,
    }


@pytest.fixture
def api_process(pipeline: PipelineProcesses, api_port: int, tmp_path: Path) -> Iterator[str]:
    """`dispatcher api` as its own process, with its output in ``api.log`` next to the workers' logs."""
    log_path = pipeline.log_dir / "api.log"
    command = [sys.executable, "-m", "dispatcher", "api", "--host", "127.0.0.1", "--port", str(api_port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=pipeline.env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{api_port}"
    try:
        wait_for(lambda: _answers(f"{url}/healthz"), timeout_s=20, what="dispatcher api")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.ConnectionError:
        return False


FINAL_OR_DELIVERED = {
    "delivered",
    "read",
    "undelivered",
    "expired",
    "rejected",
    "failed",
    "unknown",
    "cancelled",
}


# text: the default, nothing masked at all; json: what compose and Kubernetes run (dispatcher.logs).
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_log_of_a_real_run_holds_a_number_or_a_credential(
    log_format: str,
    pipeline: PipelineProcesses,
    api_process: str,
    sim: SimulatorClient,
    sim_credentials: SimCredentials,
    simulator_log: Path,
) -> None:
    sim.configure(
        callback_delay_s=[0.05, 0.1],
        outcomes={
            "revicom": {"delivered": 1.0},
            "bsg": {"delivered": 1.0},
            "smartswitch": {"delivered": 1.0},
        },
        smartswitch_dlr_url=f"{api_process}/v1/callbacks/smartswitch/{SECRET}",
    )
    # One failure on the way, so retries and their errors are logged too.
    sim.add_fault(path="/smartswitch/api/message", kind="status", status=503, count=1)
    pipeline.start_worker()
    pipeline.start_beat()
    auth = {"Authorization": f"Bearer {API_KEY}"}
    destinations = numbers(8, first=4_242_000)
    campaign = requests.post(
        f"{api_process}/v1/campaigns",
        json={
            "template": {"type": "revicom_sms", "sender_name": "SHOP", "text": "Hi {name}"},
            "recipients": [{"phone": f"+{n}", "name": f"N{i}"} for i, n in enumerate(destinations[:5])],
            "campaign_id": "sec-run",
        },
        headers=auth,
        timeout=10,
    )
    singles = requests.post(
        f"{api_process}/v1/messages",
        json={
            "messages": [
                {
                    "type": "smartswitch_sms",
                    "destination_number": destinations[5],
                    "body": "Hi",
                    "source_name": "SHOP",
                },
                {
                    "type": "bsg_rcs",
                    "phone": {"number": destinations[6]},
                    "sender": "SHOP",
                    "options": {"text": "Hi"},
                },
                {
                    "type": "revicom_voicecode",
                    "destination": destinations[7],
                    "text": "Код авторизации от Shop: 1234",
                },
            ]
        },
        headers=auth,
        timeout=10,
    )
    refused = requests.post(
        f"{api_process}/v1/messages",
        json={"type": "revicom_sms", "destination": destinations[0], "sender_name": "SHOP", "text": ""},
        headers=auth,
        timeout=10,
    )
    assert campaign.status_code == singles.status_code == 202, campaign.text + singles.text
    assert refused.status_code == 422
    ids = singles.json()["ids"]

    def all_done() -> bool:
        counts = requests.get(f"{api_process}/v1/campaigns/sec-run", headers=auth, timeout=5).json()["counts"]
        states = [
            requests.get(f"{api_process}/v1/messages/{i}", headers=auth, timeout=5).json()["state"]
            for i in ids
        ]
        return counts.get("delivered", 0) == 5 and all(state in FINAL_OR_DELIVERED for state in states)

    wait_for(all_done, timeout_s=30, what="the run to finish")
    pipeline.close()  # every process stopped: their logs are complete

    logs = {path.name: path.read_text(errors="replace") for path in sorted(pipeline.log_dir.glob("*.log"))}
    logs["simulator.log"] = simulator_log.read_text(errors="replace")
    assert {"api.log", "simulator.log"} <= set(logs)
    # PipelineProcesses names both its logs workers-<n>.log: one is the worker's, one beat's.
    assert any(" ready." in text for text in logs.values())
    assert any("beat: Starting" in text for text in logs.values())
    # The run is in the logs (what was scanned is not empty): the lanes' reports, the 503 retried.
    assert "submitted" in "".join(logs.values())
    assert "HTTP 503" in "".join(logs.values())
    if log_format == "json":
        # Only JSON logging puts the API's own records (INFO) out; text mode shows uvicorn's alone.
        assert "refused" in logs["api.log"]
    _, _, token_password = base64.b64decode(sim_credentials.revicom_token).decode().partition(":")
    secrets_used = {
        "API key": API_KEY,
        "other API key": OTHER_KEY,
        "callback secret": SECRET,
        "webhook secret": pipeline.env["DISPATCHER_WEBHOOK_SECRET"],
        "Revicom token": sim_credentials.revicom_token,
        "Revicom token password": token_password,
        "Smartswitch login": sim_credentials.smartswitch_login,
        "Smartswitch password": sim_credentials.smartswitch_password,
        "BSG API key": sim_credentials.bsg_api_key,
    }
    leaks = [
        f"{name}: {what} at ...{text[max(0, text.find(value) - 80) : text.find(value)]!r}"
        for name, text in logs.items()
        for what, value in [*secrets_used.items(), *((f"number {n}", n) for n in destinations)]
        if value in text
    ]
    assert not leaks, "\n".join(leaks)


# ---- Flower behind basic auth --------------------------------------------------------------------

AUTH_FLAGS = re.compile(r"--(basic[_-]auth|auth|unauthenticated)", re.IGNORECASE)


def test_flower_needs_basic_auth_from_a_secret_in_compose_and_kubernetes() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["flower"]
    kubernetes = next(
        doc
        for doc in yaml.safe_load_all((ROOT / "deploy" / "base" / "flower.yaml").read_text())
        if doc["kind"] == "Deployment"
    )
    [container] = kubernetes["spec"]["template"]["spec"]["containers"]
    secret = yaml.safe_load((ROOT / "deploy" / "base" / "secret.template.yaml").read_text())

    # Compose: the variable is required (`:?`) and comes from the environment, never written here.
    assert re.fullmatch(r"\$\{FLOWER_BASIC_AUTH:\?[^}]+\}", compose["environment"]["FLOWER_BASIC_AUTH"])
    # Kubernetes: from the Secret, never a literal value in the manifest.
    literal = [e for e in container.get("env", []) if e["name"].startswith("FLOWER_") and "value" in e]
    assert literal == []
    from_secret = [s["secretRef"]["name"] for s in container.get("envFrom", []) if "secretRef" in s] + [
        e["valueFrom"]["secretKeyRef"]["name"]
        for e in container.get("env", [])
        if e["name"] == "FLOWER_BASIC_AUTH" and "secretKeyRef" in e.get("valueFrom", {})
    ]
    assert secret["metadata"]["name"] in from_secret
    assert secret["stringData"]["FLOWER_BASIC_AUTH"] == "<user:password>"
    # Neither command line sets or switches off authentication by itself.
    for command in (compose["command"], container.get("command", []) + container.get("args", [])):
        assert "flower" in command
        assert not any(AUTH_FLAGS.search(part) for part in command), command
    for environment in (compose["environment"], {e["name"]: e for e in container.get("env", [])}):
        assert "FLOWER_UNAUTHENTICATED_API" not in environment

"""API keys on every `/v1` producer route (not the callbacks), `/healthz` and `/metrics`."""

from __future__ import annotations

import pytest
import requests

from dispatcher.api import create_app
from dispatcher.api.server import health_checks
from dispatcher.settings import Settings
from tests.integration.api_fixtures import API_KEY, CALLBACK_SECRET, api_port, free_port, producer_api, serve

__all__ = ["api_port", "producer_api"]  # fixtures used by name
pytestmark = pytest.mark.integration

ROUTES = [
    ("POST", "/v1/messages"),
    ("GET", "/v1/messages/0123456789abcdef"),
    ("POST", "/v1/campaigns"),
    ("POST", "/v1/campaigns/upload"),
    ("GET", "/v1/campaigns/c1"),
    ("POST", "/v1/campaigns/c1/cancel"),
]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-key-0123456789", f"Basic {API_KEY}", f"Bearer {API_KEY}x", "Bearer "],
)
def test_every_producer_route_refuses_a_missing_or_wrong_key_with_401_json(
    producer_api: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, path in ROUTES:
        answer = requests.request(method, f"{producer_api}{path}", json={}, headers=headers, timeout=5)

        assert answer.status_code == 401, (method, path)
        assert answer.json()["error"]["code"] == "unauthorized"
        assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_every_configured_key_is_accepted_and_callbacks_keep_their_path_secret(producer_api: str) -> None:
    for key in (API_KEY, "another-key-0123456789"):
        answer = requests.get(
            f"{producer_api}/v1/messages/0123456789abcdef",
            headers={"Authorization": f"Bearer {key}"},
            timeout=5,
        )
        assert answer.status_code == 404
    callback = requests.post(f"{producer_api}/v1/callbacks/revicom/{CALLBACK_SECRET}", data=b"[]", timeout=5)
    assert callback.status_code != 401


def test_no_keys_configured_refuses_everyone() -> None:
    app = create_app(None, secret=None, dispatcher=object(), api_keys=())  # type: ignore[arg-type]
    with serve(app, free_port()) as url:
        answer = requests.get(f"{url}/v1/messages/x", headers={"Authorization": "Bearer "}, timeout=5)
    assert answer.status_code == 401


def test_healthz_is_ok_with_redis_and_broker_and_metrics_are_prometheus_text(producer_api: str) -> None:
    health = requests.get(f"{producer_api}/healthz", timeout=10)
    metrics = requests.get(f"{producer_api}/metrics", timeout=5)

    assert health.status_code == 200
    assert health.json() == {"status": "ok", "checks": {"redis": "ok", "broker": "ok"}}
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    assert "# TYPE python_info gauge" in metrics.text


def test_healthz_is_503_when_redis_and_the_broker_are_away() -> None:
    nowhere = Settings(redis_url=f"redis://127.0.0.1:{free_port()}/0")  # type: ignore[arg-type]
    app = create_app(None, secret=None, checks=health_checks(nowhere))  # type: ignore[arg-type]
    with serve(app, free_port()) as url:
        health = requests.get(f"{url}/healthz", timeout=20)

    assert health.status_code == 503
    body = health.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"].startswith("unreachable")
    assert body["checks"]["broker"].startswith("unreachable")


def test_healthz_checks_a_separate_broker_on_its_own(redis_url: str) -> None:
    # The store answers, the broker (broker_url) does not: healthz says which.
    settings = Settings(redis_url=redis_url, broker_url=f"redis://127.0.0.1:{free_port()}/0")  # type: ignore[arg-type]
    app = create_app(None, secret=None, checks=health_checks(settings))  # type: ignore[arg-type]
    with serve(app, free_port()) as url:
        health = requests.get(f"{url}/healthz", timeout=20)

    assert health.status_code == 503
    checks = health.json()["checks"]
    assert checks["redis"] == "ok"
    assert checks["broker"].startswith("unreachable")

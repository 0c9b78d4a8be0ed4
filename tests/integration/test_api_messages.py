"""`POST /v1/messages` and `GET /v1/messages/{id}` against a real Redis, served by uvicorn."""

from __future__ import annotations

from typing import Any

import pytest
import redis
import requests

from dispatcher.store import Store
from tests.integration.api_fixtures import API_KEY, api_port, producer_api
from tests.integration.test_producer_intake import stored_keys
from tests.integration.worker_fixtures import numbers

__all__ = ["api_port", "producer_api"]  # fixtures used by name
pytestmark = pytest.mark.integration

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def sms(number: str, **extra: Any) -> dict[str, Any]:
    return {"type": "revicom_sms", "destination": number, "sender_name": "SHOP", "text": "Shipped", **extra}


def post(api: str, body: object, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.post(f"{api}/v1/messages", json=body, headers={**AUTH, **(headers or {})}, timeout=10)


def test_one_message_is_accepted_and_its_status_and_history_served(producer_api: str, store: Store) -> None:
    answer = post(producer_api, sms("+79161234567", priority="bulk"))

    assert answer.status_code == 202, answer.text
    [message_id] = answer.json()["ids"]
    status = requests.get(f"{producer_api}/v1/messages/{message_id}", headers=AUTH, timeout=5)
    assert status.status_code == 200
    body = status.json()
    assert (body["id"], body["state"], body["lane"], body["final"]) == (
        message_id,
        "queued",
        "revicom:bulk",
        False,
    )
    assert [(step["source"], step["target"]) for step in body["history"]] == [("accepted", "queued")]
    assert body["provider_message_id"] is None


def test_a_batch_goes_through_send_many_in_order(producer_api: str, store: Store) -> None:
    destinations = numbers(3)
    body = {
        "messages": [
            sms(destinations[0]),
            {
                "type": "smartswitch_sms",
                "destination_number": destinations[1],
                "body": "Hi",
                "source_name": "SHOP",
            },
            sms(destinations[2]),
        ]
    }
    answer = post(producer_api, body)

    assert answer.status_code == 202, answer.text
    ids = answer.json()["ids"]
    lanes = [store.get(message_id).lane for message_id in ids]  # type: ignore[union-attr]
    assert lanes == ["revicom:bulk", "smartswitch:bulk", "revicom:bulk"]


def test_idempotency_key_returns_the_first_id_and_stores_once(
    producer_api: str, store: Store, redis_client: redis.Redis, key_prefix: str
) -> None:
    key = {"Idempotency-Key": "order-42-shipped"}
    first = post(producer_api, sms("79161234567"), key)
    keys_after_first = len(stored_keys(redis_client, key_prefix))
    again = post(producer_api, sms("79161234567"), key)

    assert first.status_code == again.status_code == 202
    assert first.json()["ids"] == again.json()["ids"]
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert store.lane_depth("revicom:transactional") == 1
    assert len(stored_keys(redis_client, key_prefix)) == keys_after_first
    other = post(producer_api, sms("79161234567"), {"Idempotency-Key": "order-43-shipped"})
    assert other.json()["ids"] != first.json()["ids"]


def test_an_idempotency_key_reused_with_another_body_is_409_and_stores_nothing(
    producer_api: str, redis_client: redis.Redis, key_prefix: str
) -> None:
    key = {"Idempotency-Key": "order-42-shipped"}
    first = post(producer_api, sms("79161234567"), key).json()["ids"][0]
    keys_before = stored_keys(redis_client, key_prefix)

    refused = post(producer_api, sms("79161234567", text="Your order was cancelled"), key)

    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "conflict"
    assert first in error["message"]
    assert error["problems"][0]["field"] == "idempotency_key"
    assert error["problems"][0]["value"] == "order-42-shipped"
    assert stored_keys(redis_client, key_prefix) == keys_before


@pytest.mark.parametrize(
    ("body", "field", "value", "rule"),
    [
        (sms("12"), "destination", "12", "phone number"),
        ({**sms("79161234567"), "type": "pigeon"}, "type", "pigeon", "must be one of"),
        ({"type": "revicom_sms", "destination": "79161234567", "text": "x"}, "sender_name", None, "required"),
        ({"messages": [sms("79161234567"), sms("79161234567", text="")]}, "messages.1.text", "", ""),
        (sms("79161234567", send_at="2030-01-01T00:00:00"), "send_at", "2030-01-01T00:00:00", "timezone"),
        ([], "(body)", [], ""),
    ],
)
def test_a_bad_body_is_422_naming_field_value_and_rule_and_stores_nothing(
    producer_api: str,
    redis_client: redis.Redis,
    key_prefix: str,
    body: object,
    field: str,
    value: object,
    rule: str,
) -> None:
    answer = post(producer_api, body)

    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_request"
    matching = [p for p in error["problems"] if p["field"] == field]
    assert matching, error["problems"]
    assert matching[0]["value"] == value
    assert rule in matching[0]["rule"]
    assert stored_keys(redis_client, key_prefix) == []


def test_a_broken_rule_found_by_the_dispatcher_is_422_too(
    producer_api: str, redis_client: redis.Redis, key_prefix: str
) -> None:
    answer = post(producer_api, sms("79161234567", account="nobody"))

    assert answer.status_code == 422
    [problem] = answer.json()["error"]["problems"]
    assert (problem["field"], problem["value"]) == ("account", "nobody")
    assert stored_keys(redis_client, key_prefix) == []


def test_not_json_is_422_and_an_unknown_id_404(producer_api: str) -> None:
    garbage = requests.post(
        f"{producer_api}/v1/messages",
        data=b"{not json",
        headers={**AUTH, "Content-Type": "application/json"},
        timeout=5,
    )
    unknown = requests.get(f"{producer_api}/v1/messages/0123456789abcdef", headers=AUTH, timeout=5)

    assert garbage.status_code == 422
    assert garbage.json()["error"]["problems"][0]["rule"]
    assert unknown.status_code == 404
    assert unknown.json() == {"error": {"code": "not_found", "message": "no such message", "problems": []}}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (sms("+79161234567", sender_name="A\ud800"), "sender_name"),
        (sms("+79161234567", text="Hi \udfff"), "text"),
        ({**sms("+79161234567"), "x\ud800": 1}, "(body)"),  # the key is the value: "x\\ud800"
    ],
)
def test_a_lone_surrogate_is_a_422_naming_the_field_not_a_500(
    producer_api: str, redis_client: redis.Redis, key_prefix: str, body: dict[str, Any], field: str
) -> None:
    # json.dumps writes the surrogate as the escape \ud800: valid JSON, but not valid Unicode text.
    answer = post(producer_api, body)

    assert answer.status_code == 422, answer.text
    assert any(field in problem["field"] for problem in answer.json()["error"]["problems"]), answer.text
    assert stored_keys(redis_client, key_prefix) == []

"""The HTTP API as a backend developer meets it, served by uvicorn on a real Redis: voice codes by
brand and code, statuses a person can read, bad JSON named by line and column, named operations
with an example for every body, and Swagger UI / ReDoc working offline in headless Chromium."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests

from dispatcher.api.messages import SEND_EXAMPLES
from tests.integration.api_fixtures import API_KEY, api_port, producer_api
from tests.integration.test_dev_flower import CHROMIUM, chromium

__all__ = ["api_port", "producer_api"]  # fixtures used by name
pytestmark = pytest.mark.integration

AUTH = {"Authorization": f"Bearer {API_KEY}"}
OPERATIONS = {
    "send_messages",
    "get_message",
    "start_campaign",
    "upload_campaign",
    "get_campaign",
    "cancel_campaign",
    "get_health",
    "get_metrics",
}


def post(api: str, body: object) -> requests.Response:
    return requests.post(f"{api}/v1/messages", json=body, headers=AUTH, timeout=10)


def status_of(api: str, message_id: str) -> dict[str, Any]:
    answer = requests.get(f"{api}/v1/messages/{message_id}", headers=AUTH, timeout=5)
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


def test_a_voice_code_by_brand_and_code_is_written_by_the_dispatcher(producer_api: str) -> None:
    answer = post(
        producer_api,
        {
            "type": "revicom_voicecode",
            "destination": "+79161234567",
            "brand": "Shop",
            "code": "3456",
            "style": "dashed",
        },
    )

    assert answer.status_code == 202, answer.text
    status = status_of(producer_api, answer.json()["ids"][0])
    assert (status["channel"], status["lane"]) == ("voicecode", "revicom:transactional")
    assert status["segments"] is None


@pytest.mark.parametrize(
    ("extra", "field", "value"),
    [
        ({"brand": "Shop", "code": "abcd"}, "code", "abcd"),
        ({"brand": "Shop", "code": "12345"}, "code", "12345"),
        ({"brand": " Shop", "code": "1234"}, "brand", " Shop"),
        ({"brand": "Shop"}, "(body)", None),
        ({"brand": "Shop", "code": "1234", "text": "Код авторизации от Shop: 1234"}, "(body)", None),
        ({}, "(body)", None),
    ],
)
def test_a_bad_voice_code_names_the_field_the_caller_wrote(
    producer_api: str, extra: dict[str, str], field: str, value: str | None
) -> None:
    answer = post(producer_api, {"type": "revicom_voicecode", "destination": "+79161234567", **extra})

    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["error"]["problems"]
    assert (problem["field"], problem["value"]) == (field, value)
    assert "Код" not in str(problem["value"])


def test_a_status_gives_the_masked_number_channel_segments_encoding_and_iso_times(producer_api: str) -> None:
    text = "Привет! " * 10  # 80 UCS-2 characters: two segments
    answer = post(
        producer_api,
        {"type": "revicom_sms", "destination": "+79161234567", "sender_name": "SHOP", "text": text},
    )

    status = status_of(producer_api, answer.json()["ids"][0])

    assert (status["destination"], status["channel"]) == ("7916*****67", "sms")
    assert (status["segments"], status["encoding"]) == (2, "UCS-2")
    assert status["provider_error_code"] is None
    created = datetime.fromisoformat(status["created_at"])
    assert created.utcoffset() is not None
    assert datetime.fromisoformat(status["deadline"]) > created
    # History times are truncated to the millisecond, created_at rounded to it: up to 1 ms apart.
    times = [step["at"] for step in status["history"]]
    earliest = created - timedelta(milliseconds=1)
    assert all(datetime.fromisoformat(at) >= earliest for at in times), (created, times)
    assert "79161234567" not in str(status)


def test_bad_json_is_named_by_line_and_column(producer_api: str) -> None:
    body = '{\n  "type": "revicom_sms",\n  "destination": ,\n}'

    answer = requests.post(
        f"{producer_api}/v1/messages",
        data=body,
        headers={**AUTH, "Content-Type": "application/json"},
        timeout=10,
    )

    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["error"]["problems"]
    assert problem["field"] == "(body)"
    assert re.search(r"at line 3, column 18$", problem["rule"]), problem["rule"]


def test_operations_are_named_and_every_body_has_an_example(producer_api: str) -> None:
    document = requests.get(f"{producer_api}/openapi.json", timeout=5).json()
    schemas = document["components"]["schemas"]
    operations = [operation for item in document["paths"].values() for operation in item.values()]

    assert {operation["operationId"] for operation in operations} == OPERATIONS
    missing = []
    for operation in operations:
        bodies = [("request", operation.get("requestBody", {}).get("content", {}))]
        bodies += [
            (f"response {status}", answer.get("content", {}))
            for status, answer in operation["responses"].items()
        ]
        for what, content in bodies:
            for media, body in content.items():
                if media != "application/json":
                    continue
                ref = body.get("schema", {}).get("$ref", "")
                schema = schemas.get(ref.rsplit("/", 1)[-1], {}) if ref else body.get("schema", {})
                if not (body.get("examples") or body.get("example") or schema.get("examples")):
                    missing.append(f"{operation['operationId']} {what}")
    assert missing == []


@pytest.mark.parametrize("name", sorted(SEND_EXAMPLES))
def test_every_documented_request_example_is_accepted(producer_api: str, name: str) -> None:
    answer = post(producer_api, SEND_EXAMPLES[name]["value"])

    assert answer.status_code == 202, answer.text


def test_the_documented_campaign_example_is_accepted(producer_api: str) -> None:
    document = requests.get(f"{producer_api}/openapi.json", timeout=5).json()
    [example] = document["components"]["schemas"]["CampaignRequest"]["examples"]

    answer = requests.post(
        f"{producer_api}/v1/campaigns",
        json={**example, "campaign_id": "doc-example"},
        headers=AUTH,
        timeout=10,
    )

    assert answer.status_code == 202, answer.text


@pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install -y chromium)"
)
def test_swagger_ui_and_redoc_show_the_routes_without_internet(producer_api: str) -> None:
    for page in ("/docs", "/redoc"):
        html = requests.get(f"{producer_api}{page}", timeout=5).text
        # Every script and style comes from this server: nothing from a CDN.
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert sources, page
        assert [source for source in sources if source.startswith(("http:", "https:", "//"))] == [], page

    swagger = chromium(f"{producer_api}/docs", "--dump-dom")
    redoc = chromium(f"{producer_api}/redoc", "--dump-dom")

    assert "/v1/messages" in swagger
    assert "/v1/campaigns/{campaign_id}/cancel" in swagger
    assert "Send one message, or a batch" in redoc
    assert "Start a campaign" in redoc


def test_national_numbers_are_read_in_the_region_the_request_names(producer_api: str) -> None:
    national = {
        "type": "revicom_sms",
        "destination": "8 (916) 123-45-67",
        "sender_name": "SHOP",
        "text": "Hi",
    }
    one = post(producer_api, {**national, "region": "RU"})
    batch = post(
        producer_api,
        {
            "region": "RU",
            "messages": [
                national,
                {
                    "type": "smartswitch_sms",
                    "destination_number": "8 916 123-45-68",
                    "source_name": "SHOP",
                    "body": "Hi",
                },
                {**national, "destination": "+49 1511 2345678"},  # international: read as written
            ],
        },
    )
    without = post(producer_api, national)
    unknown = post(producer_api, {**national, "region": "XX"})

    assert one.status_code == 202, one.text
    assert status_of(producer_api, one.json()["ids"][0])["destination"] == "7916*****67"
    assert batch.status_code == 202, batch.text
    destinations = [status_of(producer_api, message_id)["destination"] for message_id in batch.json()["ids"]]
    assert destinations == ["7916*****67", "7916*****68", "4915*******78"]
    assert without.status_code == 422
    [problem] = without.json()["error"]["problems"]
    assert problem["field"] == "destination"
    assert "region" in problem["rule"]
    assert unknown.status_code == 422
    assert [p["field"] for p in unknown.json()["error"]["problems"]] == ["region", "destination"]

"""`/v1/campaigns`: inline recipients, an uploaded CSV, counts, cancel — against a real Redis."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from dispatcher.store import Store
from tests.integration.api_fixtures import API_KEY, api_port, producer_api
from tests.integration.worker_fixtures import numbers

__all__ = ["api_port", "producer_api"]  # fixtures used by name
pytestmark = pytest.mark.integration

AUTH = {"Authorization": f"Bearer {API_KEY}"}
TEMPLATE = {"type": "revicom_sms", "sender_name": "SHOP", "text": "Hi {name}, 20% off today"}


def counts(api: str, campaign_id: str) -> dict[str, Any]:
    answer = requests.get(f"{api}/v1/campaigns/{campaign_id}", headers=AUTH, timeout=5)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def upload(api: str, csv_path: Path, campaign: dict[str, Any]) -> requests.Response:
    with csv_path.open("rb") as handle:
        return requests.post(
            f"{api}/v1/campaigns/upload",
            files={"file": (csv_path.name, handle, "text/csv")},
            data={"campaign": json.dumps(campaign)},
            headers=AUTH,
            timeout=30,
        )


def test_inline_campaign_is_counted_and_cancelled(producer_api: str) -> None:
    recipients = [{"phone": number, "name": f"N{index}"} for index, number in enumerate(numbers(5))]
    answer = requests.post(
        f"{producer_api}/v1/campaigns",
        json={"template": TEMPLATE, "recipients": recipients, "campaign_id": "spring-sale"},
        headers=AUTH,
        timeout=10,
    )

    assert answer.status_code == 202, answer.text
    assert answer.json() == {"id": "spring-sale"}
    before = counts(producer_api, "spring-sale")
    assert (before["total"], before["counts"]["queued"]) == (5, 5)
    cancelled = requests.post(f"{producer_api}/v1/campaigns/spring-sale/cancel", headers=AUTH, timeout=10)
    assert cancelled.status_code == 200
    assert (cancelled.json()["total"], cancelled.json()["counts"]["cancelled"]) == (5, 5)
    assert counts(producer_api, "spring-sale")["counts"]["queued"] == 0


def test_uploaded_csv_campaign_counts_every_row(producer_api: str, tmp_path: Path) -> None:
    csv_path = tmp_path / "recipients.csv"
    rows = numbers(2500)
    csv_path.write_text(
        "phone,name\n" + "".join(f"{n},Ann {i}\n" for i, n in enumerate(rows)), encoding="utf-8"
    )

    answer = upload(producer_api, csv_path, {"template": TEMPLATE, "priority": "bulk"})

    assert answer.status_code == 202, answer.text
    body = counts(producer_api, answer.json()["id"])
    assert (body["total"], body["counts"]["queued"]) == (2500, 2500)


def test_a_bad_row_refuses_the_whole_upload_naming_it(
    producer_api: str, store: Store, tmp_path: Path
) -> None:
    csv_path = tmp_path / "recipients.csv"
    csv_path.write_text("phone,name\n79160000001,Ann\n12,Bob\n", encoding="utf-8")

    answer = upload(producer_api, csv_path, {"template": TEMPLATE, "campaign_id": "broken"})

    assert answer.status_code == 422
    [problem] = answer.json()["error"]["problems"]
    assert (problem["field"], problem["value"]) == ("line 3, column phone", "12")
    assert requests.get(f"{producer_api}/v1/campaigns/broken", headers=AUTH, timeout=5).status_code == 404
    assert store.lane_depth("revicom:bulk") == 0


@pytest.mark.parametrize(
    ("campaign", "field"),
    [
        ("{", "campaign"),
        (json.dumps({"template": {**TEMPLATE, "type": "fax"}}), "campaign.template.type"),
        (json.dumps({"template": TEMPLATE, "priority": "urgent"}), "campaign.priority"),
    ],
)
def test_a_bad_campaign_field_is_422(producer_api: str, tmp_path: Path, campaign: str, field: str) -> None:
    csv_path = tmp_path / "recipients.csv"
    csv_path.write_text("phone\n79160000001\n", encoding="utf-8")
    with csv_path.open("rb") as handle:
        answer = requests.post(
            f"{producer_api}/v1/campaigns/upload",
            files={"file": ("r.csv", handle, "text/csv")},
            data={"campaign": campaign},
            headers=AUTH,
            timeout=10,
        )

    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["problems"][0]["field"] == field


def test_csv_without_phone_column_or_not_utf8_is_422(producer_api: str, tmp_path: Path) -> None:
    no_phone = tmp_path / "a.csv"
    no_phone.write_text("name\nAnn\n", encoding="utf-8")
    latin = tmp_path / "b.csv"
    latin.write_bytes(b"phone,name\n79160000001,J\xf6rg\n")

    for path, field in ((no_phone, "line 1"), (latin, "line 2")):
        answer = upload(producer_api, path, {"template": TEMPLATE})
        assert answer.status_code == 422, answer.text
        [problem] = answer.json()["error"]["problems"]
        assert (problem["field"], problem["value"]) == (field, path.name)


def test_unknown_campaign_is_404(producer_api: str) -> None:
    for method, path in (("GET", "/v1/campaigns/nope"), ("POST", "/v1/campaigns/nope/cancel")):
        answer = requests.request(method, f"{producer_api}{path}", headers=AUTH, timeout=5)
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "not_found"


def test_a_campaign_posted_twice_with_its_id_is_stored_once_and_a_changed_one_is_409(
    producer_api: str, store: Store, tmp_path: Path
) -> None:
    # The report: the same post twice sent every SMS twice; a third with other recipients was appended.
    recipients = [{"phone": number, "name": f"N{index}"} for index, number in enumerate(numbers(5))]
    body = {"template": TEMPLATE, "recipients": recipients, "campaign_id": "spring-sale"}

    def post(campaign: dict[str, Any]) -> requests.Response:
        return requests.post(f"{producer_api}/v1/campaigns", json=campaign, headers=AUTH, timeout=10)

    first, again = post(body), post(body)
    changed = post({**body, "recipients": recipients[:4]})

    assert first.status_code == again.status_code == 202, again.text
    assert first.json() == again.json() == {"id": "spring-sale"}
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert changed.status_code == 409, changed.text
    error = changed.json()["error"]
    assert error["code"] == "conflict"
    assert error["problems"][0]["field"] == "campaign_id"
    assert "spring-sale" in error["message"]
    assert counts(producer_api, "spring-sale")["total"] == 5
    assert store.lane_depth("revicom:bulk") == 5

    # The same rows uploaded as a CSV are the same campaign.
    path = tmp_path / "same.csv"
    path.write_text("phone,name\n" + "".join(f"{r['phone']},{r['name']}\n" for r in recipients))
    replayed = upload(producer_api, path, {"template": TEMPLATE, "campaign_id": "spring-sale"})
    assert replayed.status_code == 202, replayed.text
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert store.lane_depth("revicom:bulk") == 5

"""Campaign CSV files as people export them, on real Redis: every bad row of the whole file is
named by its line and column and nothing is stored; UTF-16, `;` and region-bound national numbers
go through; the CLI and the HTTP API say the same."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
from click.testing import CliRunner

from dispatcher import Dispatcher, MessageTemplate
from dispatcher.accounts import Account
from dispatcher.cli.main import cli
from dispatcher.errors import InvalidMessage
from dispatcher.models.revicom import RevicomSms
from dispatcher.producer.campaigns import PROBLEMS_LISTED
from dispatcher.settings import Settings
from dispatcher.store import Store
from tests.integration.api_fixtures import api_port, producer_api
from tests.integration.test_api_campaigns import AUTH
from tests.integration.test_producer_intake import stored_keys
from tests.integration.worker_fixtures import numbers

__all__ = ["api_port", "producer_api"]  # fixtures used by name
pytestmark = pytest.mark.integration

TEMPLATE = MessageTemplate(RevicomSms, {"sender_name": "SHOP", "text": "Hi {first_name}, 20% off"})


@pytest.fixture
def dispatcher(
    store: Store, accounts: dict[str, Account], redis_url: str, key_prefix: str
) -> Iterator[Dispatcher]:
    with Dispatcher(store, accounts, Settings(redis_url=redis_url, key_prefix=key_prefix)) as producer:
        yield producer


def assert_nothing_stored(client: redis.Redis, prefix: str) -> None:
    """No message, lane or campaign key (the statistics may count rows held, then discarded)."""
    assert [key for key in stored_keys(client, prefix) if not key.endswith(b":stats")] == []


def people(
    path: Path, count: int, *, blank: frozenset[int] = frozenset(), short: frozenset[int] = frozenset()
) -> Path:
    """``count`` rows; the row indexes in ``blank`` have an empty name, those in ``short`` none at all."""
    lines = ["Phone,First Name"]
    for index, number in enumerate(numbers(count)):
        lines.append(number if index in short else f"{number},{'' if index in blank else f'Ann {index}'}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_every_bad_row_of_the_whole_file_is_named_by_line_and_nothing_is_stored(
    dispatcher: Dispatcher, tmp_path: Path, redis_client: redis.Redis, key_prefix: str
) -> None:
    # Bad rows in the first, the third and the last chunk: the first refusal does not end the check.
    csv_path = people(tmp_path / "people.csv", 3500, blank=frozenset({3, 2200}), short=frozenset({3499}))

    with pytest.raises(InvalidMessage) as raised:
        dispatcher.campaign(TEMPLATE, csv_path)

    problems = [(p.field, p.value) for p in raised.value.problems]
    assert problems == [
        ("line 5, column First Name", ""),
        ("line 2202, column First Name", ""),
        ("line 3501, column First Name", None),
    ]
    assert raised.value.summary == "3 of 3500 recipients are invalid; nothing of the campaign is stored"
    assert_nothing_stored(redis_client, key_prefix)


def test_a_file_of_bad_rows_lists_the_first_hundred_and_counts_them_all(
    dispatcher: Dispatcher, tmp_path: Path, redis_client: redis.Redis, key_prefix: str
) -> None:
    csv_path = people(tmp_path / "people.csv", 2500, blank=frozenset(range(0, 2500, 2)))

    with pytest.raises(InvalidMessage) as raised:
        dispatcher.campaign(TEMPLATE, csv_path)

    assert len(raised.value.problems) == PROBLEMS_LISTED
    assert raised.value.summary == (
        f"1250 of 2500 recipients are invalid (the first {PROBLEMS_LISTED} problems are listed); "
        "nothing of the campaign is stored"
    )
    assert_nothing_stored(redis_client, key_prefix)


def test_a_placeholder_no_column_fills_is_refused_once_for_the_file(
    dispatcher: Dispatcher, tmp_path: Path
) -> None:
    csv_path = people(tmp_path / "people.csv", 10)
    template = MessageTemplate(RevicomSms, {"sender_name": "SHOP", "text": "Hi {first_name} in {city}"})

    with pytest.raises(InvalidMessage) as raised:
        dispatcher.campaign(template, csv_path)

    [problem] = raised.value.problems
    assert problem.field == "line 1"
    assert "columns found: 'Phone', 'First Name'" in problem.rule


def test_excel_unicode_text_with_national_numbers_goes_through_in_the_region_given(
    dispatcher: Dispatcher, tmp_path: Path
) -> None:
    csv_path = tmp_path / "excel.txt"
    csv_path.write_bytes(
        "PHONE\tfirst name\r\n8 (916) 123-45-67\tÅsa\r\n+7 916 123-45-68\tBo\r\n".encode("utf-16")
    )

    campaign_id = dispatcher.campaign(TEMPLATE, csv_path, region="RU")

    records = [
        dispatcher.store.get(message_id) for message_id in dispatcher.store.campaign_message_ids(campaign_id)
    ]
    wires = [json.loads(record.wire) for record in records if record is not None]
    assert [
        (wire["destination"], wire["content"]) for wire in sorted(wires, key=lambda w: w["destination"])
    ] == [
        ("79161234567", "Hi Åsa, 20% off"),
        ("79161234568", "Hi Bo, 20% off"),
    ]


def test_a_national_number_without_a_region_is_refused_with_a_hint(
    dispatcher: Dispatcher, tmp_path: Path
) -> None:
    csv_path = tmp_path / "people.csv"
    csv_path.write_text("phone;first_name\n8 (916) 123-45-67;Ann\n", encoding="utf-8")

    with pytest.raises(InvalidMessage) as raised:
        dispatcher.campaign(TEMPLATE, csv_path)

    [problem] = raised.value.problems
    assert problem.field == "line 2, column phone"
    assert "region" in problem.rule


def test_an_unknown_region_is_refused_naming_it(dispatcher: Dispatcher) -> None:
    with pytest.raises(InvalidMessage, match="region='XX'"):
        dispatcher.campaign(TEMPLATE, [{"phone": "79161234567", "first_name": "Ann"}], region="XX")


def test_the_cli_reads_a_semicolon_file_with_a_region_and_names_bad_lines(
    redis_url: str, key_prefix: str, tmp_path: Path
) -> None:
    env = {"DISPATCHER_REDIS_URL": redis_url, "DISPATCHER_KEY_PREFIX": key_prefix}
    good = tmp_path / "good.csv"
    good.write_text("Phone;Name\n8 916 123-45-67;Ann\n", encoding="utf-8-sig")
    bad = tmp_path / "bad.csv"
    bad.write_text("phone;name\n79161234567;Ann\n79161234568\n", encoding="utf-8")
    run = CliRunner().invoke

    sent = run(
        cli,
        ["campaign", "send", str(good), "--sender", "SHOP", "--text", "Hi {name}", "--region", "RU"],
        env=env,
    )
    refused = run(cli, ["campaign", "send", str(bad), "--sender", "SHOP", "--text", "Hi {name}"], env=env)
    unicode_file = tmp_path / "u16.csv"
    unicode_file.write_bytes("phone\n79161234567\n".encode("utf-16-le"))
    undecodable = run(
        cli, ["campaign", "send", str(unicode_file), "--sender", "SHOP", "--text", "Hi"], env=env
    )

    assert sent.exit_code == 0, sent.output
    assert refused.exit_code == 1
    assert "1 of 2 recipients are invalid" in refused.stderr
    assert "field: line 3, column name" in refused.stderr
    assert undecodable.exit_code == 1
    assert "UTF-16 without a byte-order mark" in undecodable.stderr
    for result in (sent, refused, undecodable):
        assert "Traceback" not in result.output


def test_the_api_takes_a_region_and_answers_bad_lines_by_number(producer_api: str, tmp_path: Path) -> None:
    csv_path = tmp_path / "people.csv"
    csv_path.write_text("phone,first_name\n8 916 123-45-67,Ann\n8 916 123-45-68,\n", encoding="utf-8")
    template = {"type": "revicom_sms", "sender_name": "SHOP", "text": "Hi {first_name}"}

    def upload(options: dict[str, object]) -> requests.Response:
        with csv_path.open("rb") as handle:
            return requests.post(
                f"{producer_api}/v1/campaigns/upload",
                files={"file": ("people.csv", handle, "text/csv")},
                data={"campaign": json.dumps({"template": template, **options})},
                headers=AUTH,
                timeout=30,
            )

    refused = upload({"region": "RU"})
    inline = requests.post(
        f"{producer_api}/v1/campaigns",
        json={
            "template": template,
            "region": "RU",
            "recipients": [{"phone": "8 916 123-45-67", "first_name": "Ann"}],
        },
        headers=AUTH,
        timeout=30,
    )

    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert [(p["field"], p["value"]) for p in error["problems"]] == [("line 3, column first_name", "")]
    assert error["message"].startswith("1 of 2 recipients are invalid")
    assert inline.status_code == 202, inline.text

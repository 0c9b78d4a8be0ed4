"""`dispatcher send` and `dispatcher status` through the real click entry point, on real Redis: ids
printed, states shown, and every error a plain message with exit code 1 (bad input) or 2 (usage)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime

import orjson
import pytest
from click.testing import CliRunner, Result

from dispatcher.cli.main import cli

pytestmark = pytest.mark.integration


@pytest.fixture
def env(redis_url: str, key_prefix: str, sim_credentials: object) -> dict[str, str]:
    return {"DISPATCHER_REDIS_URL": redis_url, "DISPATCHER_KEY_PREFIX": key_prefix}


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def sent_id(result: Result) -> str:
    assert result.exit_code == 0, result.output
    message_id = result.stdout.strip()
    assert message_id
    assert " " not in message_id
    return message_id


def state_of(env: dict[str, str], message_id: str) -> dict[str, object]:
    result = run(env, "status", message_id, "--json")
    assert result.exit_code == 0, result.output
    document: dict[str, object] = orjson.loads(result.stdout)
    return document


def test_send_sms_prints_an_id_whose_status_shows_queued(env: dict[str, str]) -> None:
    message_id = sent_id(
        run(env, "send", "sms", "--to", "+7 916 123-45-67", "--sender", "SHOP", "--text", "Hi")
    )

    table = run(env, "status", message_id)

    assert table.exit_code == 0
    assert f"id            {message_id}" in table.stdout
    assert "state         queued" in table.stdout
    assert "-> queued" in table.stdout  # the history
    document = state_of(env, message_id)
    assert (document["state"], document["provider"], document["final"]) == ("queued", "revicom", False)


def test_every_kind_of_message_goes_to_its_provider(env: dict[str, str]) -> None:
    kinds = {
        "revicom": ["voicecode", "--to", "442079460912", "--brand", "Shop", "--code", "4321"],
        "bsg": ["rcs", "--to", "447946090012", "--sender", "shop", "--text", "Hi", "--fallback-text", "Hi"],
        "smartswitch": [
            "sms",
            "--to",
            "79161234567",
            "--sender",
            "SHOP",
            "--text",
            "Hi",
            "--account",
            "smartswitch",
        ],
    }
    for provider, args in kinds.items():
        document = state_of(env, sent_id(run(env, "send", *args)))
        assert document["provider"] == provider, args
    flash = state_of(
        env,
        sent_id(run(env, "send", "flashcall", "--to", "79161234567", "--sender", "SHOP", "--code", "1234")),
    )
    assert flash["lane"] == "revicom:transactional"


def test_a_message_breaking_a_rule_is_field_value_rule_lines_and_exit_1(env: dict[str, str]) -> None:
    result = run(env, "send", "sms", "--to", "12", "--sender", "SHOP", "--text", "")

    assert result.exit_code == 1
    assert "field: destination" in result.stderr
    assert "value: '12'" in result.stderr
    assert "field: text" in result.stderr
    assert "rule:" in result.stderr
    assert result.stdout == ""


def test_a_send_time_without_a_time_zone_is_invalid_and_a_malformed_one_is_usage(env: dict[str, str]) -> None:
    base = ["send", "sms", "--to", "79161234567", "--sender", "SHOP", "--text", "Hi", "--send-at"]

    naive = run(env, *base, "2030-01-01T09:00:00")
    malformed = run(env, *base, "tomorrow")
    missing = run(env, "send", "sms", "--to", "79161234567", "--sender", "SHOP")

    assert naive.exit_code == 1
    assert "field: send_at" in naive.stderr
    assert malformed.exit_code == 2
    assert "ISO 8601" in malformed.stderr
    assert missing.exit_code == 2
    assert "--text" in missing.stderr


def test_status_of_an_unknown_id_is_exit_1(env: dict[str, str]) -> None:
    result = run(env, "status", "nosuchmessage")

    assert result.exit_code == 1
    assert "no message 'nosuchmessage'" in result.stderr


def test_the_real_entry_point_exits_1_without_a_traceback_when_redis_is_down(env: dict[str, str]) -> None:
    broken = {**os.environ, **env, "DISPATCHER_REDIS_URL": "redis://127.0.0.1:1/0"}
    process = subprocess.run(
        [sys.executable, "-m", "dispatcher", "status", "x"],
        env=broken,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert process.returncode == 1
    assert "Redis does not answer" in process.stderr
    assert "Traceback" not in process.stderr


@pytest.mark.parametrize(
    "command",
    [[], ["dev"], ["send"], ["send", "sms"], ["send", "voicecode"], ["send", "flashcall"], ["send", "rcs"],
     ["status"], ["campaign"], ["campaign", "send"], ["campaign", "status"], ["campaign", "cancel"],
     ["campaign", "audit"], ["simulator"], ["demo"], ["api"], ["lanes"], ["lanes", "resume"]],
)  # fmt: skip
def test_every_command_has_help_with_an_example(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])

    assert result.exit_code == 0
    assert "Example" in result.output


def test_a_deadline_given_on_the_command_line_counts_from_the_send_time(env: dict[str, str]) -> None:
    message_id = sent_id(
        run(
            env,
            "send",
            "sms",
            "--to",
            "+79161234567",
            "--sender",
            "SHOP",
            "--text",
            "Hi",
            "--deadline",
            "600",
        )
    )

    document = state_of(env, message_id)

    deadline = datetime.fromisoformat(str(document["deadline"]))
    created = datetime.fromisoformat(str(document["created_at"]))
    assert (deadline - created).total_seconds() == pytest.approx(600, abs=0.01)
    assert "deadline      " in run(env, "status", message_id).stdout


def test_a_bad_voice_code_is_named_as_the_code_not_as_the_sentence(env: dict[str, str]) -> None:
    result = run(env, "send", "voicecode", "--to", "79161234567", "--brand", "Shop", "--code", "abcd")

    assert result.exit_code == 1
    assert "field: code" in result.stderr
    assert "value: 'abcd'" in result.stderr
    assert "Код" not in result.stderr


def test_status_shows_the_masked_number_segments_and_iso_times(env: dict[str, str]) -> None:
    message_id = sent_id(run(env, "send", "sms", "--to", "+79161234567", "--sender", "SHOP", "--text", "Hi"))

    table = run(env, "status", message_id).stdout
    document = state_of(env, message_id)

    assert "to            7916*****67" in table
    assert "segments      1 (GSM-7)" in table
    assert (document["destination"], document["segments"], document["encoding"]) == (
        "7916*****67",
        1,
        "GSM-7",
    )
    assert str(document["created_at"]).endswith("Z")
    assert "79161234567" not in table + str(document)


def test_send_reads_a_national_number_in_the_region_given(env: dict[str, str]) -> None:
    national = ["send", "sms", "--to", "8 (916) 123-45-67", "--sender", "SHOP", "--text", "Hi"]

    sent = run(env, *national, "--region", "RU")
    by_setting = run({**env, "DISPATCHER_DEFAULT_REGION": "RU"}, *national)
    refused = run(env, *national)
    wrong = run(env, *national, "--region", "US")

    assert state_of(env, sent_id(sent))["destination"] == "7916*****67"
    assert state_of(env, sent_id(by_setting))["destination"] == "7916*****67"
    assert refused.exit_code == 1
    assert "region" in refused.stderr
    assert wrong.exit_code == 1
    assert "field: to" in wrong.stderr

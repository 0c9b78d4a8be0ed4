"""`dispatcher campaign send|status|cancel|audit` through the click entry point, on real Redis: the
upload, cancelling, and an audit that fails while messages are unfinished or counters disagree; with
real workers, the simulator and the callback API, `--wait` until every message is delivered."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from click.testing import CliRunner, Result

from dispatcher.cli.main import cli
from dispatcher.store.keys import Keys
from tests.integration.api_fixtures import api, api_port, pipeline_env
from tests.integration.worker_fixtures import PipelineProcesses, numbers

__all__ = ["api", "api_port", "pipeline_env"]  # fixtures used by name
pytestmark = pytest.mark.integration


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def customers(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "customers.csv"
    rows = [f"{number},Ann{index}" for index, number in enumerate(numbers(count))]
    path.write_text("phone,name\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def env(redis_url: str, key_prefix: str) -> dict[str, str]:
    return {"DISPATCHER_REDIS_URL": redis_url, "DISPATCHER_KEY_PREFIX": key_prefix}


def send_campaign(env: dict[str, str], csv: Path, *more: str) -> str:
    result = run(env, "campaign", "send", str(csv), "--sender", "SHOP", "--text", "Hi {name}", *more)
    assert result.exit_code == 0, result.output
    assert "Upload" in result.stderr
    return result.stdout.strip()


def test_audit_fails_while_messages_wait_and_passes_once_all_are_cancelled(
    env: dict[str, str], tmp_path: Path
) -> None:
    campaign_id = send_campaign(env, customers(tmp_path, 3))

    status = run(env, "campaign", "status", campaign_id)
    waiting = run(env, "campaign", "audit", campaign_id)
    cancelled = run(env, "campaign", "cancel", campaign_id)
    audited = run(env, "campaign", "audit", campaign_id)

    assert status.exit_code == 0
    assert "total        3" in status.stdout
    assert waiting.exit_code == 1
    assert "3 messages still queued" in waiting.stdout
    assert cancelled.exit_code == 0
    assert "cancelled    3" in cancelled.stdout
    assert audited.exit_code == 0, audited.output
    assert "OK: all 3 messages in exactly one final state" in audited.stdout


def test_audit_fails_when_the_counters_disagree_with_the_records(
    env: dict[str, str], tmp_path: Path, redis_client: redis.Redis, key_prefix: str
) -> None:
    campaign_id = send_campaign(env, customers(tmp_path, 2))
    assert run(env, "campaign", "cancel", campaign_id).exit_code == 0
    redis_client.hincrby(Keys(key_prefix).campaign(campaign_id), "n:delivered", 1)

    result = run(env, "campaign", "audit", campaign_id)

    assert result.exit_code == 1
    assert "delivered: 0 records but the counter says 1" in result.stdout


def test_a_broken_row_stores_nothing_and_unknown_campaigns_are_exit_1(
    env: dict[str, str], tmp_path: Path
) -> None:
    csv = tmp_path / "broken.csv"
    csv.write_text("phone,name\n79161234567,Ann\n12,Bob\n", encoding="utf-8")

    broken = run(env, "campaign", "send", str(csv), "--sender", "SHOP", "--text", "Hi {name}")
    unknown = [run(env, "campaign", command, "nosuchcampaign") for command in ("status", "cancel", "audit")]
    missing_file = run(env, "campaign", "send", str(tmp_path / "none.csv"), "--sender", "S", "--text", "x")

    assert broken.exit_code == 1
    assert "value: '12'" in broken.stderr
    assert broken.stdout == ""
    assert [result.exit_code for result in unknown] == [1, 1, 1]
    assert missing_file.exit_code == 2


def test_a_named_campaign_sent_again_sends_nothing_twice_and_another_file_is_refused(
    env: dict[str, str], tmp_path: Path, redis_client: redis.Redis, key_prefix: str
) -> None:
    csv = customers(tmp_path, 3)
    first = send_campaign(env, csv, "--campaign-id", "spring")
    again = run(
        env,
        "campaign",
        "send",
        str(csv),
        "--sender",
        "SHOP",
        "--text",
        "Hi {name}",
        "--campaign-id",
        "spring",
    )
    other = tmp_path / "other.csv"
    other.write_text("phone,name\n79161234599,Eve\n", encoding="utf-8")
    changed = run(
        env,
        "campaign",
        "send",
        str(other),
        "--sender",
        "SHOP",
        "--text",
        "Hi {name}",
        "--campaign-id",
        "spring",
    )

    assert first == "spring"
    assert again.exit_code == 0, again.output
    assert again.stdout.strip() == "spring"
    assert "nothing sent again" in again.stderr
    assert changed.exit_code == 1
    assert "field: campaign_id" in changed.stderr
    assert "other content" in changed.stderr
    assert "Traceback" not in changed.output
    assert redis_client.llen(Keys(key_prefix).lane("revicom:bulk")) == 3


def test_send_wait_follows_delivery_until_every_message_is_final(
    pipeline: PipelineProcesses, pipeline_env: dict[str, str], api: str, tmp_path: Path
) -> None:
    pipeline.start_worker()
    pipeline.start_beat()

    result = run(
        pipeline_env,
        "campaign", "send", str(customers(tmp_path, 50)), "--sender", "SHOP", "--text", "Hi {name}",
        "--wait", "--timeout", "30",
    )  # fmt: skip
    audit = run(pipeline_env, "campaign", "audit", result.stdout.strip())

    assert result.exit_code == 0, result.output
    assert "Delivery" in result.stderr
    assert audit.exit_code == 0, audit.output
    assert "delivered" in audit.stdout

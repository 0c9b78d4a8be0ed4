"""docker-compose.yml and the Dockerfile: valid against the Compose spec (offline, the schema ships
with check-jsonschema), every dependency a real service, every service probed or saying why not,
and no secret written into the file."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from dispatcher.accounts import parse_accounts
from dispatcher.taskqueue import PRIORITY_CLASSES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|API_KEY|BASIC_AUTH")


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    document = yaml.safe_load(COMPOSE.read_text())
    return document["services"]  # type: ignore[no-any-return]


def test_compose_file_matches_the_compose_spec() -> None:
    checker = Path(sys.executable).with_name("check-jsonschema")
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_dependency_is_a_service_and_waits_for_health(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown service {dependency}"
            assert condition == {"condition": "service_healthy"}, name
            assert "healthcheck" in services[dependency], f"{name} waits for {dependency}, which has no check"
    for name in ("api", "beat", "flower", *(f"worker-{queue}" for queue in PRIORITY_CLASSES)):
        assert "redis" in services[name]["depends_on"], name


def test_every_service_has_a_healthcheck_or_a_reason(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if "healthcheck" in service:
            assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
        else:
            assert len(service.get("x-healthcheck-omitted", "")) > 20, f"{name}: no healthcheck, no reason"


def test_processes_queues_and_redis_persistence(services: dict[str, dict[str, Any]]) -> None:
    redis_command = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in redis_command
    assert "--hash-max-listpack-value 1024" in redis_command
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert services["redis"]["volumes"][0].endswith(":/data")
    for queue in PRIORITY_CLASSES:
        command = services[f"worker-{queue}"]["command"]
        assert command[command.index("-Q") + 1] == queue
        assert command[command.index("-P") + 1] == "threads"
    assert services["api"]["command"][:4] == ["dispatcher", "api", "--host", "0.0.0.0"]
    assert "/healthz" in " ".join(services["api"]["healthcheck"]["test"])
    assert services["beat"]["deploy"]["replicas"] == 1
    assert services["simulator"]["profiles"] == ["demo"]
    assert [name for name, service in services.items() if "profiles" in service] == ["simulator"]


def test_secrets_only_by_reference(services: dict[str, dict[str, Any]]) -> None:
    flower_environment = services["flower"]["environment"]
    assert flower_environment["FLOWER_BASIC_AUTH"].startswith("${FLOWER_BASIC_AUTH:?")
    secrets_seen = 0
    for name, service in services.items():
        for variable, value in service.get("environment", {}).items():
            if SECRET_NAME.search(variable):
                secrets_seen += 1
                assert re.fullmatch(rf"\$\{{{variable}:\?[^}}]*\}}", value), f"{name}: {variable}={value}"
    assert secrets_seen > 0


def test_dockerfile_is_multi_stage_slim_and_non_root() -> None:
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    stages = [line for line in lines if line.startswith("FROM ")]
    assert len(stages) == 2
    assert all(stage.split()[1] == "python:3.11-slim" for stage in stages)
    user = [line for line in lines if line.startswith("USER ")]
    assert user
    assert user[-1] not in ("USER root", "USER 0")
    assert "[dev]" not in "\n".join(lines)
    # The context is an allow-list: a local .venv or .env never reaches the image.
    ignore = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    assert ignore[0] == "*"


ENV_EXAMPLE = ROOT / ".env.example"
PROVIDERS_EXAMPLE = ROOT / "deploy" / "base" / "providers.toml"
_VARIABLE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(:?[?-])?")


def test_env_example_lists_every_variable_compose_reads_and_the_required_ones_unset() -> None:
    used = {match[0]: match[1] for match in _VARIABLE.findall(COMPOSE.read_text()) if match[0] != "VAR"}
    example = ENV_EXAMPLE.read_text()
    listed = set(re.findall(r"^#? ?([A-Z_][A-Z0-9_]*)=", example, flags=re.MULTILINE))
    required_empty = set(re.findall(r"^([A-Z_][A-Z0-9_]*)=$", example, flags=re.MULTILINE))

    assert set(used) <= listed, f"not in .env.example: {sorted(set(used) - listed)}"
    assert {name for name, kind in used.items() if kind == ":?"} == required_empty


def test_compose_gives_every_process_the_providers_file_it_names(services: dict[str, dict[str, Any]]) -> None:
    document = yaml.safe_load(COMPOSE.read_text())
    default = re.fullmatch(r"\$\{DISPATCHER_PROVIDERS_TOML:-(.+)\}", document["configs"]["providers"]["file"])

    assert default is not None
    assert (ROOT / default[1]).resolve() == PROVIDERS_EXAMPLE
    for name in ("api", "beat", "worker-transactional", "worker-bulk"):
        service = services[name]
        [mount] = service["configs"]
        assert mount["target"] == service["environment"]["DISPATCHER_PROVIDERS_FILE"], name


def test_the_providers_example_reaches_the_real_providers_with_limits() -> None:
    accounts = parse_accounts(tomllib.loads(PROVIDERS_EXAMPLE.read_text()), simulator_url="http://unused")

    assert {account.provider for account in accounts.values()} == {"revicom", "smartswitch", "bsg"}
    assert all(account.base_url.startswith("https://") for account in accounts.values())
    assert "{simulator_url}" not in PROVIDERS_EXAMPLE.read_text()
    assert all(account.limits is not None for account in accounts.values()), "an operator must set limits"
    assert accounts["revicom"].base_url == "https://direct.revicom.ltd"
    assert accounts["bsg"].base_url == "https://one-api.bsg.world"

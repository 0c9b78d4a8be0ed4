"""No traceback reaches a person: every `dispatcher` command, run as a real process, under every way
its surroundings can be wrong (Redis down, a malformed Redis URL, invalid settings, a providers file
that is missing, a recipients file that cannot be read or is not text) prints one `Error:` line
naming the problem and exits 1 (runtime) or 2 (usage)."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.integration.api_fixtures import free_port

pytestmark = pytest.mark.integration

#: Commands that only talk to Redis (and the providers file) and return.
CLIENT_COMMANDS: dict[str, list[str]] = {
    "lanes": ["lanes"],
    "lanes pause": ["lanes", "pause", "revicom:bulk", "--reason", "maintenance"],
    "lanes resume": ["lanes", "resume", "revicom:bulk"],
    "send sms": ["send", "sms", "--to", "79161234567", "--sender", "SHOP", "--text", "Hi"],
    "send voicecode": ["send", "voicecode", "--to", "79161234567", "--brand", "Shop", "--code", "1234"],
    "send flashcall": ["send", "flashcall", "--to", "79161234567", "--sender", "SHOP", "--code", "1234"],
    "send rcs": ["send", "rcs", "--to", "79161234567", "--sender", "agent", "--text", "Hi"],
    "status": ["status", "0193a1b2c3d4e5f6a7b8c9d0e1"],
    "campaign send": ["campaign", "send", "{csv}", "--sender", "SHOP", "--text", "Hi {name}"],
    "campaign status": ["campaign", "status", "spring"],
    "campaign cancel": ["campaign", "cancel", "spring"],
    "campaign audit": ["campaign", "audit", "spring"],
}
#: Commands that serve until stopped: only conditions that stop them before they serve are run.
SERVER_COMMANDS: dict[str, list[str]] = {
    "api": ["api", "--port", "{port}"],
    "dev": ["dev"],
    "demo": ["demo"],
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli-failures")
    good = root / "good.csv"
    good.write_text("phone,name\n79161234567,Ann\n", encoding="utf-8")
    latin1 = root / "latin1.csv"
    latin1.write_bytes(b"phone,name\n79161234567,J\xf6rg\n")
    utf16_without_bom = root / "utf16.csv"
    utf16_without_bom.write_bytes("phone,name\n79161234567,Ann\n".encode("utf-16-le"))
    return {"good": good, "latin1": latin1, "utf16": utf16_without_bom, "directory": root}


def clean_environment(**settings: str) -> dict[str, str]:
    """The environment without any DISPATCHER_ setting but these."""
    kept = {name: value for name, value in os.environ.items() if not name.startswith("DISPATCHER_")}
    return {**kept, "DISPATCHER_REDIS_CONNECT_TIMEOUT_S": "1", "DISPATCHER_REDIS_TIMEOUT_S": "2", **settings}


def run(args: list[str], env: dict[str, str], csv: Path) -> subprocess.CompletedProcess[str]:
    argv = [arg.replace("{csv}", str(csv)).replace("{port}", str(free_port())) for arg in args]
    return subprocess.run(
        [sys.executable, "-m", "dispatcher", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def conditions(
    redis_url: str, key_prefix: str, files: dict[str, Path]
) -> dict[str, tuple[dict[str, str], Path]]:
    """condition -> (environment, the recipients file `campaign send` gets)."""
    working = {"DISPATCHER_REDIS_URL": redis_url, "DISPATCHER_KEY_PREFIX": key_prefix}
    return {
        "redis down": (
            clean_environment(DISPATCHER_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"),
            files["good"],
        ),
        "malformed redis url": (
            clean_environment(DISPATCHER_REDIS_URL="redis//127.0.0.1:6379"),
            files["good"],
        ),
        "redis host unknown": (
            clean_environment(DISPATCHER_REDIS_URL="redis://no-such-host.invalid:6379/0"),
            files["good"],
        ),
        "invalid setting": (clean_environment(**working, DISPATCHER_CALLBACK_SECRET="short"), files["good"]),
        "providers file missing": (
            clean_environment(**working, DISPATCHER_PROVIDERS_FILE="/nonexistent/providers.toml"),
            files["good"],
        ),
        "recipients file is a directory": (clean_environment(**working), files["directory"]),
        "recipients file not utf-8": (clean_environment(**working), files["latin1"]),
        "recipients file utf-16 without bom": (clean_environment(**working), files["utf16"]),
    }


def plain_failure(name: str, result: subprocess.CompletedProcess[str]) -> str | None:
    """What is wrong with ``result`` as a failure a person reads (None: nothing)."""
    output = result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith(("Error:", "Usage:"))]
    if "Traceback" in output:
        return f"{name}: a traceback\n{output}"
    if result.returncode not in (1, 2):
        return f"{name}: exit {result.returncode}\n{output}"
    if len(errors) != 1 and not any(line.startswith("Usage:") for line in errors):
        return f"{name}: not one Error: line\n{output}"
    return None


def assert_one_plain_line(name: str, result: subprocess.CompletedProcess[str]) -> None:
    problem = plain_failure(name, result)
    assert problem is None, problem


def test_every_client_command_fails_in_one_line_under_every_condition(
    redis_url: str, key_prefix: str, files: dict[str, Path]
) -> None:
    cases = [
        (f"{command} / {condition}", args, env, csv)
        for condition, (env, csv) in conditions(redis_url, key_prefix, files).items()
        for command, args in CLIENT_COMMANDS.items()
        # A recipients file matters only to the command that reads one.
        if not condition.startswith("recipients file") or command == "campaign send"
    ]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda case: run(case[1], case[2], case[3]), cases))

    problems = [plain_failure(name, result) for (name, *_), result in zip(cases, results, strict=True)]
    assert [problem for problem in problems if problem] == []
    assert len(cases) == 8 * len(CLIENT_COMMANDS) - 3 * (len(CLIENT_COMMANDS) - 1)


def test_the_failures_name_what_is_wrong(redis_url: str, key_prefix: str, files: dict[str, Path]) -> None:
    found = conditions(redis_url, key_prefix, files)

    def stderr_of(condition: str, command: str) -> str:
        env, csv = found[condition]
        return run(CLIENT_COMMANDS[command], env, csv).stderr

    assert "Redis does not answer" in stderr_of("redis down", "lanes")
    assert "DISPATCHER_REDIS_URL" in stderr_of("malformed redis url", "lanes resume")
    assert "DISPATCHER_CALLBACK_SECRET must be at least 16 characters" in stderr_of(
        "invalid setting", "status"
    )
    assert "short" not in stderr_of("invalid setting", "status"), "a secret's value is never printed"
    assert "/nonexistent/providers.toml" in stderr_of("providers file missing", "send sms")
    assert "line 2" in stderr_of("recipients file not utf-8", "campaign send")
    assert "UTF-16 without a byte-order mark" in stderr_of(
        "recipients file utf-16 without bom", "campaign send"
    )


def test_servers_refuse_invalid_settings_in_one_line(files: dict[str, Path]) -> None:
    for condition, env in {
        "invalid setting": clean_environment(DISPATCHER_CALLBACK_SECRET="short"),
        "malformed redis url": clean_environment(DISPATCHER_REDIS_URL="redis//x"),
    }.items():
        for command, args in SERVER_COMMANDS.items():
            result = run(args, env, files["good"])
            assert_one_plain_line(f"{command} / {condition}", result)
            assert "DISPATCHER_" in result.stderr


def test_lanes_pause_names_an_unknown_lane_and_pauses_a_known_one_with_its_reason(
    redis_url: str, key_prefix: str, files: dict[str, Path]
) -> None:
    env = clean_environment(DISPATCHER_REDIS_URL=redis_url, DISPATCHER_KEY_PREFIX=key_prefix)

    unknown = run(["lanes", "pause", "revicom:fast", "--reason", "x"], env, files["good"])
    paused = run(["lanes", "pause", "revicom:bulk", "--reason", "provider maintenance"], env, files["good"])
    listed = run(["lanes"], env, files["good"])
    resumed = run(["lanes", "resume", "revicom:bulk"], env, files["good"])

    assert unknown.returncode == 2
    assert "'revicom:fast' is not a lane of this deployment" in unknown.stderr
    assert "revicom:bulk" in unknown.stderr
    assert paused.returncode == 0, paused.stderr
    assert "until resumed: provider maintenance" in listed.stdout
    assert resumed.returncode == 0
    assert "revicom:bulk: resumed" in resumed.stdout

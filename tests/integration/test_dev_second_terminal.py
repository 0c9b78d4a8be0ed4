"""`dispatcher dev` from a second terminal: with the stack running in the background, commands run
in an environment without any DISPATCHER_* variable find it by themselves, a campaign sent there is
delivered in full and audited, a Smartswitch SMS is delivered (the simulator's DLR URL is set), the
printed API key opens the API, and a second stack refuses to start."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from dispatcher.simulator.client import SimulatorClient
from tests.integration.test_dev_stack import group_is_empty, serving_env, start_serving, started
from tests.integration.worker_fixtures import numbers
from tests.redis_servers import RestartableRedis

__all__ = ["started"]  # a fixture used by name
pytestmark = pytest.mark.integration

ROWS = 300


def terminal(state_home: Path) -> dict[str, str]:
    """A second terminal's environment: no DISPATCHER_* variable, the same user's state directory."""
    kept = {name: value for name, value in os.environ.items() if not name.startswith("DISPATCHER_")}
    return {**kept, "XDG_STATE_HOME": str(state_home)}


def dispatcher(env: dict[str, str], *args: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dispatcher", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def test_a_second_terminal_uses_the_running_dev_stack(
    redis_url: str, key_prefix: str, tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    state_home = tmp_path / "state"
    process, ports = start_serving(
        serving_env(redis_url, key_prefix, state_home), tmp_path / "dev.log", started
    )
    output = (tmp_path / "dev.log").read_text()
    [api_key] = re.findall(r"key: (\S+)\)", output)
    second = terminal(state_home)
    exports = dispatcher(second, "dev", "env")
    assert exports.returncode == 0, exports.stderr
    simulator_url = re.search(r"DISPATCHER_SIMULATOR_URL='?([^'\n]+)", exports.stdout)
    assert simulator_url is not None
    simulator = SimulatorClient(simulator_url[1])
    simulator.configure(outcomes={name: {"delivered": 1.0} for name in ("revicom", "smartswitch")})
    simulator.close()
    people = tmp_path / "people.csv"
    people.write_text("phone,name\n" + "".join(f"{n},Ann {i}\n" for i, n in enumerate(numbers(ROWS))))

    campaign = dispatcher(
        second, "campaign", "send", str(people), "--sender", "SHOP", "--text", "Hi {name}", "--wait"
    )
    campaign_id = campaign.stdout.strip()
    sms = dispatcher(
        second,
        "send",
        "sms",
        "--account",
        "smartswitch",
        "--to",
        "+4915112345678",
        "--sender",
        "SHOP",
        "--text",
        "Hi",
    )
    sms_id = sms.stdout.strip()
    deadline = time.monotonic() + 60
    while (
        state := orjson.loads(dispatcher(second, "status", sms_id, "--json").stdout)["state"]
    ) != "delivered":
        assert time.monotonic() < deadline, f"the Smartswitch SMS stayed {state}"
        time.sleep(0.5)
    curl = (
        'eval "$(python -m dispatcher dev env)" && curl -fsS -H "Authorization: Bearer $DISPATCHER_API_KEYS" '
        f'"$DISPATCHER_CALLBACK_BASE_URL/v1/campaigns/{campaign_id}"'
    )
    api = subprocess.run(
        ["bash", "-c", curl],
        env={**second, "PATH": f"{Path(sys.executable).parent}:{second.get('PATH', '')}"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    audit = dispatcher(second, "campaign", "audit", campaign_id)
    another = dispatcher(serving_env(redis_url, key_prefix, state_home), "dev", timeout_s=60)
    ports_taken = dispatcher(
        serving_env(redis_url, key_prefix, tmp_path / "other-state"),
        "dev",
        f"--api-port={ports['api']}",
        timeout_s=60,
    )
    process.send_signal(signal.SIGTERM)
    returncode = process.wait(timeout=60)

    assert campaign.returncode == 0, campaign.stderr
    assert "using the dev stack of pid" in campaign.stderr
    assert "Delivery" in campaign.stderr
    assert sms.returncode == 0, sms.stderr
    assert api.returncode == 0, api.stderr
    assert orjson.loads(api.stdout)["counts"]["delivered"] == ROWS
    assert api_key in exports.stdout
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert f"OK: all {ROWS} messages" in audit.stdout
    assert another.returncode == 1
    assert "another dispatcher dev runs" in another.stderr
    assert "Traceback" not in another.stderr
    assert ports_taken.returncode == 1
    assert f"port {ports['api']} (api) is taken" in ports_taken.stderr
    assert returncode == 0
    assert not (state_home / "dispatcher" / "dev.env").exists(), "the settings file outlived the stack"
    assert dispatcher(second, "dev", "env").returncode == 1
    assert group_is_empty(process.pid)


def test_the_dev_stack_writes_under_its_own_prefix_and_hides_its_settings(tmp_path: Path) -> None:
    # No DISPATCHER_KEY_PREFIX: the stack's keys go under `dev`, never the production default `dsp`
    # (on a private Redis: the shared one is touched only under the tests' own prefixes).
    server = RestartableRedis(tmp_path / "redis")
    env = serving_env(server.url, "unused", tmp_path / "state")
    del env["DISPATCHER_KEY_PREFIX"]
    started: list[subprocess.Popen[str]] = []
    try:
        process, _ = start_serving(env, tmp_path / "dev.log", started)
        settings_file = tmp_path / "state" / "dispatcher" / "dev.env"
        text = settings_file.read_text()
        mode = settings_file.stat().st_mode & 0o777
        with server.client() as client:
            prefixes = {key.split(b"}")[0] for key in client.scan_iter(match="{*", count=1000)}
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    finally:
        for child in started:
            if not group_is_empty(child.pid, timeout_s=0):
                os.killpg(child.pid, signal.SIGKILL)
        server.stop()

    assert "export DISPATCHER_KEY_PREFIX=dev" in text
    assert mode == 0o600
    assert prefixes <= {b"{dev"}
    assert "Redis keys under {dev}" in (tmp_path / "dev.log").read_text()

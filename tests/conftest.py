"""Shared fixtures: a private Redis key prefix, the simulator as a real HTTP server, and accounts
whose credentials live only in this test session's environment."""

from __future__ import annotations

import base64
import os
import secrets
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import hypothesis
import pytest

from dispatcher.accounts import Account, parse_accounts
from dispatcher.settings import DEFAULT_PROVIDERS_FILE
from dispatcher.simulator.client import SimulatorClient
from dispatcher.simulator.process import running_simulator

pytest_plugins = ["tests.integration.worker_fixtures"]

# The suite is deterministic: the same examples every run and on every machine (derandomized, no
# example database to carry state between runs), without deadlines or the "too slow" health checks
# that a busy 2-core CI box trips. Examples Hypothesis once found stay as explicit @example()s.
# HYPOTHESIS_PROFILE=explore searches afresh (random, with a database in .hypothesis/) to find more.
hypothesis.settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[
        hypothesis.HealthCheck.too_slow,
        hypothesis.HealthCheck.data_too_large,
        hypothesis.HealthCheck.filter_too_much,
    ],
)
hypothesis.settings.register_profile("explore", deadline=None, max_examples=1000)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@dataclass(frozen=True)
class SimCredentials:
    """Random per-session credentials, accepted by the simulator and used by the adapters."""

    revicom_token: str
    revicom_other_token: str
    smartswitch_login: str
    smartswitch_password: str
    bsg_api_key: str

    def environment(self) -> dict[str, str]:
        return {
            "DISPATCHER_REVICOM_TOKEN": self.revicom_token,
            "DISPATCHER_SIM_REVICOM_OTHER_TOKEN": self.revicom_other_token,
            "DISPATCHER_SMARTSWITCH_LOGIN": self.smartswitch_login,
            "DISPATCHER_SMARTSWITCH_PASSWORD": self.smartswitch_password,
            "DISPATCHER_BSG_API_KEY": self.bsg_api_key,
        }


def _basic_token() -> str:
    return base64.b64encode(f"key{secrets.token_hex(4)}:{secrets.token_urlsafe(12)}".encode()).decode()


@pytest.fixture(scope="session")
def sim_credentials() -> SimCredentials:
    return SimCredentials(
        revicom_token=_basic_token(),
        revicom_other_token=_basic_token(),
        smartswitch_login=f"login{secrets.token_hex(3)}",
        smartswitch_password=secrets.token_urlsafe(12),
        bsg_api_key=f"live_{secrets.token_hex(16)}",
    )


@pytest.fixture(scope="session")
def simulator_url(sim_credentials: SimCredentials, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One `dispatcher simulator` process for the whole test session, on a free port."""
    log_path = Path(tmp_path_factory.mktemp("simulator")) / "simulator.log"
    with running_simulator(sim_credentials.environment(), log_path=log_path) as url:
        yield url


@pytest.fixture
def sim(simulator_url: str) -> Iterator[SimulatorClient]:
    """The simulator, reset to its defaults (no messages, no log, no faults) for this test."""
    client = SimulatorClient(simulator_url)
    client.reset()
    yield client
    client.close()


@pytest.fixture
def provider_env(sim_credentials: SimCredentials, monkeypatch: pytest.MonkeyPatch) -> SimCredentials:
    """Put the simulator's credentials where the default providers file says they are."""
    for name, value in sim_credentials.environment().items():
        monkeypatch.setenv(name, value)
    return sim_credentials


@pytest.fixture
def accounts(simulator_url: str, provider_env: SimCredentials) -> dict[str, Account]:
    """The default accounts (revicom, smartswitch, bsg), all pointing at the test simulator."""
    document = tomllib.loads(DEFAULT_PROVIDERS_FILE.read_text(encoding="utf-8"))
    return parse_accounts(document, simulator_url=simulator_url)

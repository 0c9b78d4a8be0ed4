from __future__ import annotations

import tomllib

import pytest

from dispatcher.accounts import BsgAccount, RevicomAccount, SmartswitchAccount, load_accounts, parse_accounts
from dispatcher.errors import ConfigurationError
from dispatcher.settings import DEFAULT_PROVIDERS_FILE, Settings


def default_document() -> dict[str, object]:
    return tomllib.loads(DEFAULT_PROVIDERS_FILE.read_text(encoding="utf-8"))


def test_default_file_points_every_provider_at_the_simulator() -> None:
    accounts = parse_accounts(default_document(), simulator_url="http://127.0.0.1:9999")

    assert isinstance(accounts["revicom"], RevicomAccount)
    assert isinstance(accounts["smartswitch"], SmartswitchAccount)
    assert isinstance(accounts["bsg"], BsgAccount)
    assert accounts["revicom"].base_url == "http://127.0.0.1:9999/revicom"
    assert accounts["bsg"].limits is not None
    assert accounts["bsg"].limits.messages_per_s == 100


def test_secret_is_read_from_the_named_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPATCHER_REVICOM_TOKEN", "dG9rZW4=")
    account = parse_accounts(default_document(), simulator_url="http://sim")["revicom"]

    assert isinstance(account, RevicomAccount)
    assert account.token() == "dG9rZW4="


def test_missing_secret_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPATCHER_BSG_API_KEY", raising=False)
    account = parse_accounts(default_document(), simulator_url="http://sim")["bsg"]
    assert isinstance(account, BsgAccount)

    with pytest.raises(ConfigurationError, match="DISPATCHER_BSG_API_KEY"):
        account.api_key()


def test_unknown_provider_is_a_configuration_error() -> None:
    document = {"accounts": {"x": {"provider": "carrier-pigeon", "base_url": "http://a"}}}

    with pytest.raises(ConfigurationError, match="providers file"):
        parse_accounts(document, simulator_url="http://sim")


def test_limits_must_be_positive() -> None:
    document = default_document()
    document["accounts"]["revicom"]["limits"]["messages_per_s"] = 0  # type: ignore[index]

    with pytest.raises(ConfigurationError, match="messages_per_s"):
        parse_accounts(document, simulator_url="http://sim")


def test_a_secret_value_in_the_file_is_refused() -> None:
    # Secrets come from the environment only: a `token` key is an unknown field, not a credential.
    document = {"accounts": {"r": {"provider": "revicom", "base_url": "http://a", "token": "c2VjcmV0"}}}

    with pytest.raises(ConfigurationError) as caught:
        parse_accounts(document, simulator_url="http://sim")
    assert "c2VjcmV0" not in str(caught.value)


def test_missing_file_is_a_configuration_error(tmp_path: object) -> None:
    settings = Settings(providers_file=f"{tmp_path}/absent.toml")

    with pytest.raises(ConfigurationError, match=r"absent\.toml"):
        load_accounts(settings)

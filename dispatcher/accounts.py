"""Provider accounts: the providers file (TOML) and the secrets its entries name.

The file holds endpoints, limits and policies; secrets are read from the environment variables it
names, at the moment they are needed, so a missing secret is a clear ``ConfigurationError`` naming
the variable (never the value) and a rotated secret needs no file change.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dispatcher.errors import ConfigurationError
from dispatcher.settings import Settings


class AccountLimits(BaseModel):
    """What the provider allows this account; enforced across all workers (docs/architecture.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    messages_per_s: float = Field(gt=0)
    requests_per_s: float = Field(gt=0)
    burst: int = Field(ge=1, description="Messages that may go at once above the steady rate.")
    max_concurrent_requests: int | None = Field(default=None, ge=1)
    transactional_reserve: float = Field(
        default=0.2,
        ge=0,
        lt=1,
        description="Share of the burst (and of requests and leases) that bulk must leave to transactional.",
    )


class _Account(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    base_url: str = Field(pattern=r"^https?://\S+$")
    limits: AccountLimits | None = None
    connect_timeout_s: float | None = Field(default=None, gt=0)
    read_timeout_s: float | None = Field(default=None, gt=0)


def _secret(variable: str, account: str) -> str:
    value = os.environ.get(variable, "")
    if not value:
        raise ConfigurationError(
            f"account {account!r} needs environment variable {variable} (it is unset or empty)"
        )
    return value


class RevicomAccount(_Account):
    provider: Literal["revicom"]
    token_env: str = Field(pattern=r"^[A-Z_][A-Z0-9_]*$")

    def token(self) -> str:
        """The Basic-auth token (Base64 of ``key_id:password``)."""
        return _secret(self.token_env, self.name)


class SmartswitchAccount(_Account):
    provider: Literal["smartswitch"]
    login_env: str = Field(pattern=r"^[A-Z_][A-Z0-9_]*$")
    password_env: str = Field(pattern=r"^[A-Z_][A-Z0-9_]*$")
    ambiguity_policy: Literal["at_most_once", "at_least_once"] = "at_most_once"
    max_url_bytes: int = Field(default=8192, ge=512, le=65536)

    def login(self) -> str:
        return _secret(self.login_env, self.name)

    def password(self) -> str:
        return _secret(self.password_env, self.name)


class BsgAccount(_Account):
    provider: Literal["bsg"]
    api_key_env: str = Field(pattern=r"^[A-Z_][A-Z0-9_]*$")
    refresh_margin_s: float = Field(
        default=60.0, ge=0, description="Refresh the JWT this long before it expires."
    )

    def api_key(self) -> str:
        return _secret(self.api_key_env, self.name)


Account = Annotated[RevicomAccount | SmartswitchAccount | BsgAccount, Field(discriminator="provider")]


class _AccountsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accounts: dict[str, Account]


def parse_accounts(document: dict[str, object], *, simulator_url: str) -> dict[str, Account]:
    """Validate a providers document (already parsed TOML) into accounts keyed by name."""
    raw_accounts = document.get("accounts")
    if not isinstance(raw_accounts, dict) or not raw_accounts:
        raise ConfigurationError("providers file: [accounts.NAME] tables are required")
    prepared: dict[str, object] = {}
    for name, entry in raw_accounts.items():
        if not isinstance(entry, dict):
            raise ConfigurationError(f"providers file: accounts.{name} must be a table")
        base_url = str(entry.get("base_url", "")).replace("{simulator_url}", simulator_url)
        prepared[name] = {**entry, "name": name, "base_url": base_url}
    try:
        return _AccountsFile.model_validate({"accounts": prepared}).accounts
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigurationError(f"providers file: {problems}") from None


def load_accounts(settings: Settings) -> dict[str, Account]:
    """Read and validate the providers file the settings point at."""
    path = Path(settings.providers_file)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"providers file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"providers file {path}: {exc}") from None
    return parse_accounts(document, simulator_url=settings.simulator_url.rstrip("/"))

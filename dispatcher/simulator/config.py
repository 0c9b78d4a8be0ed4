"""What the simulator accepts (credentials, from its environment) and how it behaves (runtime config).

The runtime config changes through ``POST /_sim/config`` (a partial update, validated whole) and
returns to these defaults on ``POST /_sim/reset``.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

PROVIDERS = ("revicom", "smartswitch", "bsg")

#: Final statuses each provider can give a message; the outcome mix draws from these.
FINAL_STATUSES: dict[str, frozenset[str]] = {
    "revicom": frozenset({"delivered", "undelivered", "unsent", "read"}),
    "smartswitch": frozenset({"delivered", "expired", "undeliverable", "rejected", "unknown"}),
    "bsg": frozenset(
        {"delivered", "read", "undelivered", "expired", "failed", "unknown", "not_service_user"}
    ),
}

_DEFAULT_OUTCOMES = {
    "revicom": {"delivered": 0.95, "undelivered": 0.05},
    "smartswitch": {"delivered": 0.95, "undeliverable": 0.05},
    "bsg": {"delivered": 0.95, "undelivered": 0.05},
}

REQUIRED_ENV = (
    "DISPATCHER_REVICOM_TOKEN",
    "DISPATCHER_SMARTSWITCH_LOGIN",
    "DISPATCHER_SMARTSWITCH_PASSWORD",
    "DISPATCHER_BSG_API_KEY",
)
#: Optional: a valid Revicom token of another type (refused with 4030 except on balance).
OTHER_TOKEN_ENV = "DISPATCHER_SIM_REVICOM_OTHER_TOKEN"  # noqa: S105 - a variable name


class MissingCredentials(Exception):
    """Some required credential variables are unset; ``variables`` names them."""

    def __init__(self, variables: list[str]) -> None:
        super().__init__("set these environment variables: " + ", ".join(variables))
        self.variables = variables


@dataclass(frozen=True)
class Credentials:
    """The secrets the simulated accounts accept. Never logged, never returned by the control API."""

    revicom_token: str
    revicom_other_token: str
    smartswitch_login: str
    smartswitch_password: str
    bsg_api_key: str

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> Credentials:
        env = dict(os.environ if environ is None else environ)
        missing = [name for name in REQUIRED_ENV if not env.get(name)]
        if missing:
            raise MissingCredentials(missing)
        return cls(
            revicom_token=env["DISPATCHER_REVICOM_TOKEN"],
            # Without a configured one, no client can hold it: 4030 is then unreachable, as intended.
            revicom_other_token=env.get(OTHER_TOKEN_ENV) or secrets.token_urlsafe(24),
            smartswitch_login=env["DISPATCHER_SMARTSWITCH_LOGIN"],
            smartswitch_password=env["DISPATCHER_SMARTSWITCH_PASSWORD"],
            bsg_api_key=env["DISPATCHER_BSG_API_KEY"],
        )


class SimConfig(BaseModel):
    """Runtime behaviour; every field can be changed with ``POST /_sim/config``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    callback_delay_s: tuple[float, float] = Field(
        default=(0.2, 1.0),
        description="Each state step (sent, then final) waits a delay drawn from this range.",
    )
    outcomes: dict[str, dict[str, float]] = Field(
        default_factory=lambda: {name: dict(mix) for name, mix in _DEFAULT_OUTCOMES.items()},
        description="Per provider: final status -> weight.",
    )
    jwt_lifetime_s: float = Field(default=3600.0, gt=0, le=7 * 86400)
    smartswitch_dlr_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    smartswitch_dlr_format: Literal["form", "json"] = "form"
    revicom_approved_senders: list[str] | None = Field(
        default=None, description="SMS sender names approved for the account; None approves every name."
    )
    blocked_numbers: list[str] = Field(default_factory=list, description="Numbers refused per message.")
    max_url_bytes: int = Field(default=8192, ge=256, le=1_048_576)
    smartswitch_ok_status: Literal["ok", "ок"] = Field(
        default="ok", description="The page spells the success status `ok`, once in Cyrillic (`ок`)."
    )
    revicom_balance_usd: float = 1200.0
    callback_loopback_only: bool = Field(
        default=True,
        description="Post callbacks only to loopback hosts (the docs' example URLs are never contacted).",
    )

    @field_validator("callback_delay_s")
    @classmethod
    def _ordered_range(cls, value: tuple[float, float]) -> tuple[float, float]:
        low, high = value
        if low < 0 or high < low or high > 3600:
            raise ValueError("must be [min, max] seconds with 0 <= min <= max <= 3600")
        return value

    @model_validator(mode="after")
    def _known_outcomes(self) -> SimConfig:
        for provider, mix in self.outcomes.items():
            if provider not in FINAL_STATUSES:
                raise ValueError(f"outcomes: unknown provider {provider!r}; known: {', '.join(PROVIDERS)}")
            unknown = set(mix) - FINAL_STATUSES[provider]
            if unknown:
                allowed = ", ".join(sorted(FINAL_STATUSES[provider]))
                raise ValueError(
                    f"outcomes.{provider}: unknown statuses {sorted(unknown)}; allowed: {allowed}"
                )
            if not mix or any(weight < 0 for weight in mix.values()) or sum(mix.values()) <= 0:
                raise ValueError(f"outcomes.{provider}: weights must be >= 0 with a positive sum")
        return self

    def updated(self, changes: dict[str, Any]) -> SimConfig:
        """A new config with ``changes`` applied; an ``outcomes`` entry replaces that provider's mix only."""
        merged = self.model_dump()
        for key, value in changes.items():
            if key == "outcomes" and isinstance(value, dict):
                merged["outcomes"] = {**merged["outcomes"], **value}
            else:
                merged[key] = value
        return SimConfig.model_validate(merged)

"""Process settings, from the environment (prefix ``DISPATCHER_``) and nothing else.

Provider accounts live in a separate file (``DISPATCHER_PROVIDERS_FILE``, see
``dispatcher.accounts``), because they are many and structured; their secrets still come only from
the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, RedisDsn, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dispatcher.errors import ConfigurationError
from dispatcher.phone import region_code
from dispatcher.webhooks.addresses import parse_networks
from dispatcher.webhooks.signing import webhook_key

#: Every setting is the environment variable of its name, upper case, after this prefix.
ENV_PREFIX = "DISPATCHER_"
#: The accounts file that ships with the package: every provider pointed at the local simulator.
DEFAULT_PROVIDERS_FILE = Path(__file__).with_name("providers.default.toml")


class Settings(BaseSettings):
    """Everything a dispatcher process needs to know about its deployment."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    redis_url: RedisDsn = Field(
        default=RedisDsn("redis://127.0.0.1:6379/0"),
        description="Message store, lanes, schedules and rate limits; Celery's broker too unless "
        "broker_url names another.",
    )
    broker_url: str | None = Field(
        default=None,
        pattern=r"^(redis|rediss|amqp|amqps|pyamqp)://\S+$",
        description="Celery's broker, when it is not the store's Redis: RabbitMQ (amqp://, amqps://) or "
        "another Redis (redis://, rediss://). May hold credentials: treat it as a secret.",
    )
    redis_timeout_s: float = Field(
        default=15.0,
        gt=0,
        le=300,
        description="A Redis call unanswered this long fails; a write is then reported as 'outcome unknown' "
        "(with its ids), never as a plain failure. Above the stalls Redis has in normal operation (fork, "
        "fsync), so a busy Redis slows callers down instead of failing them.",
    )
    redis_connect_timeout_s: float = Field(
        default=5.0, gt=0, le=60, description="Opening a connection to Redis gives up after this long."
    )
    key_prefix: str = Field(
        default="dsp",
        pattern=r"^[A-Za-z0-9_.-]{1,32}$",
        description="Every Redis key this deployment writes starts with this prefix and a colon.",
    )
    providers_file: Path = Field(
        default=DEFAULT_PROVIDERS_FILE,
        description="TOML file with the provider accounts (see dispatcher/providers.default.toml).",
    )
    connect_timeout_s: float = Field(default=10.0, gt=0, le=60)
    read_timeout_s: float = Field(
        default=70.0, gt=0, le=600, description="The providers ask for 70 s (heavy load)."
    )
    # --- the pipeline (docs/pipeline.md) ---
    retention_s: int = Field(
        default=7 * 86400, ge=60, description="Records of finished messages expire after this."
    )
    default_deadline_s: float = Field(
        default=86400, gt=0, description="No attempts after this long unless a message sets its own."
    )
    max_attempts: int = Field(default=6, ge=1, le=100, description="Provider requests per message at most.")
    backoff_base_s: float = Field(default=1.0, gt=0, description="First retry waits up to this long.")
    backoff_cap_s: float = Field(default=300.0, gt=0, description="No retry waits longer than this.")
    bulk_linger_s: float = Field(
        default=0.05, ge=0, le=5, description="A bulk lane waits this long for a fuller batch."
    )
    transactional_linger_s: float = Field(default=0.0, ge=0, le=5)
    worker_concurrency: int = Field(default=8, ge=1, le=256, description="Threads per worker process.")
    max_runners_per_lane: int = Field(
        default=4, ge=1, le=64, description="Dispatch tasks working one transactional lane at once."
    )
    max_runners_per_bulk_lane: int = Field(
        default=2,
        ge=1,
        le=64,
        # Each bulk runner's 1,000-message scripts hold Redis ~7 ms; four of them in a row are what
        # a voice code waits behind (bench/transactional_latency.py: p99 83-132 ms with 4, 62-75 ms
        # with 2, for ~3% less campaign throughput).
        description="Dispatch tasks working one bulk lane at once.",
    )
    runner_lease_s: float = Field(default=30.0, gt=0, description="A dispatch task's lease on its lane.")
    dispatch_slice_s: float = Field(
        default=5.0, gt=0, description="A dispatch task hands its slot back after this long."
    )
    take_timeout_s: float = Field(
        default=30.0, gt=0, description="A batch taken but not posted by then is returned to its lane."
    )
    reconcile_grace_s: float = Field(
        default=10.0, ge=0, description="After the read timeout, wait this long before reconciling."
    )
    max_schedule_ahead_s: float = Field(
        default=31 * 86400,
        gt=0,
        description="A send_at further ahead than this is refused at intake (31 days): no message waits "
        "longer than anyone plans for.",
    )
    send_at_past_tolerance_s: float = Field(
        default=300.0,
        ge=0,
        description="A send_at further in the past than this is refused at intake (to send now, give no "
        "send_at); one within it is sent at once.",
    )
    default_region: str | None = Field(
        default=None,
        description="The region (ISO 3166 code, e.g. RU) numbers written nationally (8 916 123-45-67) "
        "belong to in campaigns and `dispatcher send`, unless the call names one; unset, they are refused.",
    )
    held_campaign_timeout_s: float = Field(
        default=3600.0,
        gt=0,
        description="A campaign still held (its recipients being checked) this long has lost its "
        "producer: beat discards it.",
    )
    campaign_lease_s: float = Field(
        default=30.0,
        ge=2,
        le=3600,
        description="A producer checking a campaign renews its claim on the campaign id this often "
        "(in thirds); a claim not renewed this long has lost its producer: a replay with the same id "
        "takes the campaign over, and beat discards it.",
    )
    # --- callbacks, schedules, fallback, webhooks (docs/pipeline.md §6-§9) ---
    callback_base_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="Where providers reach `dispatcher api` (http(s)://host[:port][/path]); when set, every "
        "Revicom and BSG message carries its delivery callback URL.",
    )
    callback_secret: SecretStr | None = Field(
        default=None,
        min_length=16,
        description="The path segment that proves a callback came through a URL we gave out.",
    )
    early_callback_ttl_s: float = Field(
        default=3600.0,
        gt=0,
        description="A callback for a provider id not yet recorded is kept this long for its record.",
    )
    release_per_tick: int = Field(
        default=20_000, ge=1000, description="Scheduled messages beat releases per tick at most."
    )
    webhook_url: str | None = Field(
        default=None,
        description="Status changes of messages without their own webhook go here (needs webhook_secret).",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="Standard Webhooks signing secret, `whsec_` + base64 of 24..64 random bytes (make one "
        "with `dispatcher webhook-secret`). Unset: webhook URLs are refused at intake.",
    )
    webhook_allow_networks: str | None = Field(
        default=None,
        description="Comma-separated networks webhooks may reach although they are not public (e.g. "
        "`10.20.0.0/16` for a receiver inside the deployment); loopback, private, link-local and "
        "metadata addresses are refused otherwise. `dispatcher dev` allows loopback.",
    )
    webhook_timeout_s: float = Field(default=5.0, gt=0, le=60)
    webhook_max_attempts: int = Field(default=12, ge=1, le=100)
    webhook_backoff_base_s: float = Field(default=1.0, gt=0)
    webhook_backoff_cap_s: float = Field(default=600.0, gt=0)
    # --- the HTTP API (docs/api.md) ---
    api_keys: SecretStr | None = Field(
        default=None,
        description="Comma-separated bearer keys accepted by the /v1 producer routes of `dispatcher api` "
        "(none set: those routes refuse every request).",
    )
    api_max_body_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=64 * 1024,
        description="`dispatcher api` refuses (413) a request body larger than this, before reading it: "
        "JSON is parsed in memory whole. 8 MiB holds a 10,000-message batch or 100,000 inline recipients.",
    )
    api_max_upload_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=64 * 1024,
        description="The same for a campaign's CSV upload (streamed to a temporary file, not memory): "
        "64 MiB is about 2 million rows of a number and a name.",
    )
    # --- operations (docs/operations.md) ---
    metrics_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Workers and beat serve Prometheus metrics at http://<metrics_address>:<port>/metrics "
        "(0: they serve none). Beat's include the store's (messages by state, lanes, schedules). "
        "`dispatcher api` serves /metrics on its own port.",
    )
    metrics_address: str = Field(
        default="0.0.0.0",  # noqa: S104 - opt-in by metrics_port; Prometheus scrapes from another host
        description="Address the worker/beat metrics server binds.",
    )
    flower_user: str = Field(
        default="dev", min_length=1, description="`dispatcher dev`: Flower's basic-auth user."
    )
    flower_password: SecretStr | None = Field(
        default=None,
        min_length=8,
        description="`dispatcher dev`: Flower's basic-auth password (unset: a new one is generated and "
        "printed). Compose and Kubernetes give Flower FLOWER_BASIC_AUTH (user:password) directly.",
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="json: one JSON object per log line (dispatcher.logs)."
    )
    simulator_url: str = Field(
        default="http://127.0.0.1:8900",
        description="Base URL of `dispatcher simulator`; the default accounts file points here.",
    )

    @field_validator("webhook_secret")
    @classmethod
    def _standard_webhooks_secret(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None:
            webhook_key(secret.get_secret_value())
        return secret

    @field_validator("webhook_allow_networks")
    @classmethod
    def _networks(cls, networks: str | None) -> str | None:
        parse_networks(networks)
        return networks

    @model_validator(mode="after")
    def _webhooks_signed(self) -> Settings:
        if self.webhook_url is not None and self.webhook_secret is None:
            raise ValueError(
                "DISPATCHER_WEBHOOK_URL needs DISPATCHER_WEBHOOK_SECRET: webhooks are never sent unsigned"
            )
        return self

    @field_validator("default_region")
    @classmethod
    def _known_region(cls, region: str | None) -> str | None:
        return None if region is None else region_code(region)


def load_settings() -> Settings:
    """Read the settings from the environment, once per call (cheap; callers keep the result).

    Raises ``ConfigurationError`` naming each variable and its rule (never its value: some are
    secrets), e.g. ``DISPATCHER_CALLBACK_SECRET: must have at least 16 characters``."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigurationError("invalid settings: " + "; ".join(settings_problems(exc))) from None


def settings_problems(exc: ValidationError) -> list[str]:
    """Each of pydantic's errors as ``DISPATCHER_NAME: rule``, without the value."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        field = str(error["loc"][0]) if error["loc"] else ""
        variable = f"{ENV_PREFIX}{field.upper()}" if field else "settings"
        problems.append(f"{variable} {_rule(error['type'], error.get('ctx') or {}, str(error['msg']))}")
    return problems


#: pydantic's error types whose own text would be unclear for a variable, as rules.
_RULES = {
    "string_too_short": "must be at least {min_length} characters",
    "too_short": "must be at least {min_length} characters",
    "string_too_long": "must be at most {max_length} characters",
    "too_long": "must be at most {max_length} characters",
    "string_pattern_mismatch": "must match {pattern}",
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
}


def _rule(kind: str, context: dict[str, object], message: str) -> str:
    template = _RULES.get(kind)
    if template is not None:
        try:
            return template.format_map(context)
        except KeyError:
            pass
    if kind == "value_error":  # our own validators' texts are rules already
        return message.removeprefix("Value error, ")
    return f"is not valid: {message[:1].lower()}{message[1:]}"

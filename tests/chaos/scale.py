"""How big a chaos run is and how it is seeded: reduced by default (``make test``), the full
100,000-message run when the environment asks for it.

``DISPATCHER_CHAOS_MESSAGES`` (default 4,000), ``DISPATCHER_CHAOS_ROUNDS`` (default 3),
``DISPATCHER_CHAOS_SEED`` (default: a fresh one, printed so a failure can be replayed),
``DISPATCHER_CHAOS_ROUND_S`` (default grows with the message count) and
``DISPATCHER_CHAOS_SETTLE_S`` (the most the pipeline may take to settle after the last fault;
default: what is left of the test's pytest-timeout, minus a margin for the checks).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

DEFAULT_MESSAGES = 4000
DEFAULT_ROUNDS = 3
#: A tenth of the messages are RCS with an SMS fallback, 15 % scheduled SMS, the rest one campaign:
#: enough of each kind to be hit by several faults even at the reduced scale.
RCS_SHARE = 0.10
SCHEDULED_SHARE = 0.15
MIN_MESSAGES = 200


def _number(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    return float(value) if value.strip() else default


@dataclass(frozen=True)
class ChaosScale:
    messages: int
    rounds: int
    seed: int
    round_s: float
    settle_s: float | None

    @classmethod
    def from_environment(cls) -> ChaosScale:
        messages = int(_number("DISPATCHER_CHAOS_MESSAGES", DEFAULT_MESSAGES))
        if messages < MIN_MESSAGES:
            raise ValueError(f"DISPATCHER_CHAOS_MESSAGES must be at least {MIN_MESSAGES}")
        rounds = max(1, int(_number("DISPATCHER_CHAOS_ROUNDS", DEFAULT_ROUNDS)))
        seed_text = os.environ.get("DISPATCHER_CHAOS_SEED", "").strip()
        settle = os.environ.get("DISPATCHER_CHAOS_SETTLE_S", "").strip()
        return cls(
            messages=messages,
            rounds=rounds,
            seed=int(seed_text) if seed_text else secrets.randbelow(2**31),
            # A round lasts long enough for its faults to land on live traffic: the campaign is
            # paced (rate limit) to last about as long as all the rounds together.
            round_s=_number("DISPATCHER_CHAOS_ROUND_S", 5.0 + messages / 5000),
            settle_s=float(settle) if settle else None,
        )

    @property
    def rcs(self) -> int:
        return max(20, int(self.messages * RCS_SHARE))

    @property
    def scheduled(self) -> int:
        return max(20, int(self.messages * SCHEDULED_SHARE))

    @property
    def campaign(self) -> int:
        return self.messages - self.rcs - self.scheduled

    @property
    def chaos_s(self) -> float:
        return self.rounds * self.round_s

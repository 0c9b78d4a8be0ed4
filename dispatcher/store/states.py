"""Message states and the one table of allowed moves between them (docs/pipeline.md §3).

The Lua scripts get this table rendered into their text at load time (``lua_tables``), so Python and
Redis cannot disagree about which move is allowed. A move the table refuses is not an error: the
store records it in the message's history as ``ignored:<reason>`` and leaves the state as it was
(docs/architecture.md: a late ``sent`` after ``delivered`` is an event, never a regression).
"""

from __future__ import annotations

from collections.abc import Mapping

ACCEPTED = "accepted"
#: Waiting for its send time (or its sending window) in ``{P}:sched``, out of every lane.
SCHEDULED = "scheduled"
QUEUED = "queued"
SENDING = "sending"
SUBMITTED = "submitted"
SENT = "sent"
DELIVERED = "delivered"
READ = "read"
UNDELIVERED = "undelivered"
EXPIRED = "expired"
REJECTED = "rejected"
FAILED = "failed"
UNKNOWN = "unknown"
CANCELLED = "cancelled"

#: Every state a message can be in, in lifecycle order.
ALL_STATES: tuple[str, ...] = (
    ACCEPTED,
    SCHEDULED,
    QUEUED,
    SENDING,
    SUBMITTED,
    SENT,
    DELIVERED,
    READ,
    UNDELIVERED,
    EXPIRED,
    REJECTED,
    FAILED,
    UNKNOWN,
    CANCELLED,
)

#: A message in one of these is finished: its record (and idempotency key) expires after retention.
#: ``delivered`` may still become ``read`` and ``unknown`` may still be settled by a provider report.
FINAL_STATES: frozenset[str] = frozenset(
    {DELIVERED, READ, UNDELIVERED, EXPIRED, REJECTED, FAILED, UNKNOWN, CANCELLED}
)

#: What a provider may report about a message it accepted.
_PROVIDER_OUTCOMES = frozenset({SENT, DELIVERED, READ, UNDELIVERED, EXPIRED, FAILED})

TRANSITIONS: Mapping[str, frozenset[str]] = {
    ACCEPTED: frozenset({QUEUED, CANCELLED, REJECTED, EXPIRED}),
    # ``queued -> submitted``: a provider's acceptance that arrives after its batch was given back
    # (a late record) must win, or the message would be taken and sent a second time.
    # ``queued -> scheduled``: intake stores every message queued, then parks those with a send time.
    QUEUED: frozenset({SENDING, SUBMITTED, CANCELLED, EXPIRED, FAILED, SCHEDULED}),
    SCHEDULED: frozenset({QUEUED, CANCELLED, EXPIRED}),
    SENDING: frozenset({QUEUED, SUBMITTED, REJECTED, FAILED, UNKNOWN, EXPIRED}),
    # ``submitted -> cancelled`` only when the provider confirmed a stop (``Store.confirm_stopped``).
    SUBMITTED: _PROVIDER_OUTCOMES | {CANCELLED},
    SENT: _PROVIDER_OUTCOMES - {SENT},
    DELIVERED: frozenset({READ}),
    UNKNOWN: _PROVIDER_OUTCOMES,
}


#: What a producer's cancel may still stop on our side (``Store.cancel``): nothing has left yet.
CANCELLABLE_STATES: tuple[str, ...] = (ACCEPTED, SCHEDULED, QUEUED)


def allowed(source: str, target: str) -> bool:
    """True when a message in ``source`` may move to ``target``."""
    return target in TRANSITIONS.get(source, frozenset())


def lua_tables() -> str:
    """The transition table and the final states as Lua source, for the scripts' shared prelude."""

    def lua_set(states: frozenset[str]) -> str:
        return "{" + ", ".join(f"{state} = true" for state in sorted(states)) + "}"

    moves = ", ".join(f"{source} = {lua_set(targets)}" for source, targets in TRANSITIONS.items())
    return f"local ALLOWED = {{{moves}}}\nlocal FINAL = {lua_set(FINAL_STATES)}\n"

"""Turning validated messages into store records: route, id, wire item, time to live (pure, no I/O)."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Mapping, Sequence

import orjson
from pydantic import BaseModel

from dispatcher.accounts import Account
from dispatcher.errors import InvalidMessage, Problem
from dispatcher.producer.encoding import encode_wire
from dispatcher.producer.ids import new_message_ids
from dispatcher.producer.routing import Route, Router
from dispatcher.store import NewMessage

IDEMPOTENCY_KEY_MAX_CHARS = 200


def prepare(
    messages: Sequence[object],
    *,
    router: Router,
    accounts: Mapping[str, Account],
    account: str | None,
    priority: str | None,
    single: bool,
    ttl_s: float,
    now: float,
    campaign: str | None = None,
    idempotency_keys: Sequence[str | None] | None = None,
    field_prefix: str = "messages",
    name_field: Callable[[int, str], str] | None = None,
    callback_urls: Mapping[str, str] | None = None,
    options: str = "",
) -> list[NewMessage]:
    """Records for ``messages``; raises InvalidMessage naming every broken message (by index).

    ``ttl_s``: no attempts after this long from intake (the store sets the deadline by Redis'
    clock). ``now``: this process's clock, for the ids' time part only (it orders them; nothing
    compares it). ``callback_urls``: account -> the delivery callback URL its wire items carry.
    ``name_field(index, field)``: how a problem of the ``index``-th message is named (by
    default ``{field_prefix}[index].field``). ``options``: the call's options, canonical
    (``call_options``): with the message they make the request an idempotency key stands for.
    """
    if idempotency_keys is not None and len(idempotency_keys) != len(messages):
        raise InvalidMessage(
            [
                Problem(
                    "idempotency_keys",
                    len(idempotency_keys),
                    f"needs one entry per message ({len(messages)})",
                )
            ]
        )
    ids = new_message_ids(len(messages), now=now)
    prepared: list[NewMessage] = []
    problems: list[Problem] = []
    # Within one call the route depends on the model type only: decide it once per type.
    routes: dict[type, Route] = {}
    first_with_key: dict[str, int] = {}
    for index, (message_id, message) in enumerate(zip(ids, messages, strict=True)):
        key = idempotency_keys[index] if idempotency_keys is not None else None
        try:
            _check_idempotency_key(key)
            if key is not None:
                _check_key_unique(key, index, first_with_key)
            route = routes.get(type(message))
            if route is None:
                route = routes[type(message)] = router.route(
                    message, account=account, priority=priority, single=single
                )
            callback = callback_urls.get(route.account) if callback_urls is not None else None
            wire = encode_wire(message, message_id, accounts[route.account], callback)
        except InvalidMessage as exc:
            if name_field is not None:
                problems += [Problem(name_field(index, p.field), p.value, p.rule) for p in exc.problems]
            else:
                problems += [_indexed(problem, field_prefix, index, single) for problem in exc.problems]
            continue
        digest = request_digest(message, options) if key is not None else ""
        prepared.append(
            NewMessage(
                message_id, route.lane, route.provider, wire, ttl_s, campaign, key, route.channel, digest
            )
        )
    if problems:
        raise InvalidMessage(problems)
    return prepared


def call_options(**options: object) -> str:
    """A call's options as canonical JSON (sets sorted, dataclasses as dicts): equal options, equal text."""
    return orjson.dumps(options, default=_canonical, option=orjson.OPT_SORT_KEYS).decode()


def _canonical(value: object) -> object:
    if isinstance(value, set | frozenset):
        return sorted(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"{type(value).__name__} is not an option value")


def request_digest(message: object, options: str) -> str:
    """What an idempotency key stands for: the message as given (its type and every field) and the
    call's options. Not the wire item: that carries the message's own id."""
    body = message.model_dump_json() if isinstance(message, BaseModel) else repr(message)
    return hashlib.sha256(f"{type(message).__name__}\n{body}\n{options}".encode()).hexdigest()[:32]


def _check_idempotency_key(key: str | None) -> None:
    if key is not None and not (
        0 < len(key) <= IDEMPOTENCY_KEY_MAX_CHARS and key.isprintable() and " " not in key
    ):
        raise InvalidMessage(
            [
                Problem(
                    "idempotency_key",
                    key,
                    f"must be 1..{IDEMPOTENCY_KEY_MAX_CHARS} printable characters without spaces",
                )
            ]
        )


def _check_key_unique(key: str, index: int, first_with_key: dict[str, int]) -> None:
    """One key for two messages of the same call would stand for two requests at once."""
    first = first_with_key.setdefault(key, index)
    if first != index:
        raise InvalidMessage(
            [Problem("idempotency_key", key, f"is given twice in one call (also for message {first})")]
        )


def _indexed(problem: Problem, prefix: str, index: int, single: bool) -> Problem:
    """``messages[3].destination`` rather than ``destination`` when a batch names its culprit."""
    if single:
        return problem
    return Problem(f"{prefix}[{index}].{problem.field}", problem.value, problem.rule)

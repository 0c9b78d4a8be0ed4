"""What the client commands (send, status, campaign) share: a ``Dispatcher`` from the environment,
errors turned into plain lines and exit codes (never a traceback), and option types."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NoReturn

import click
import pydantic
import redis

from dispatcher.errors import ConfigurationError, InvalidMessage, StoreError
from dispatcher.producer import Dispatcher
from dispatcher.settings import load_settings

#: Exit codes of every command (click exits 2 itself on bad usage).
FAILURE = 1
USAGE = 2


def fail(message: str) -> NoReturn:
    """Print ``message`` on stderr and exit 1."""
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(FAILURE)


def print_invalid(exc: InvalidMessage) -> None:
    """One block of field / value / rule lines per broken rule, on stderr."""
    click.echo(f"Error: invalid input ({exc.summary or f'{len(exc.problems)} problem(s)'})", err=True)
    for problem in exc.problems:
        click.echo(f"  field: {problem.field}\n  value: {problem.value!r}\n  rule:  {problem.rule}", err=True)


#: Ids a store failure names, at most this many per kind (the count is always printed).
SHOWN_IDS = 20


def print_store_error(exc: StoreError) -> None:
    """What a failed intake stored and may have stored, on stderr: the message, then the ids."""
    click.echo(f"Error: {exc}", err=True)
    if exc.campaign is not None:
        click.echo(f"  campaign: {exc.campaign}", err=True)
    for label, ids in (
        ("accepted (stored, will be sent)", exc.accepted),
        ("unknown (may be stored)", exc.unknown),
    ):
        if ids:
            more = f" ... and {len(ids) - SHOWN_IDS} more" if len(ids) > SHOWN_IDS else ""
            click.echo(f"  {label}: {len(ids)}: {' '.join(ids[:SHOWN_IDS])}{more}", err=True)


@contextmanager
def dispatcher_from_environment() -> Iterator[Dispatcher]:
    """A ``Dispatcher`` on the settings of the environment; its errors become exit 1 with a plain
    message (the settings' and Redis's too), closed on exit."""
    try:
        settings = load_settings()
    except pydantic.ValidationError as exc:
        fail("settings: " + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
    try:
        with Dispatcher.from_settings(settings) as dispatcher:
            yield dispatcher
    except InvalidMessage as exc:
        print_invalid(exc)
        raise SystemExit(FAILURE) from None
    except ConfigurationError as exc:
        fail(str(exc))
    except StoreError as exc:
        print_store_error(exc)
        raise SystemExit(FAILURE) from None
    except redis.RedisError as exc:
        # The exception text may name the host, never a password (redis-py leaves it out).
        fail(f"Redis does not answer ({type(exc).__name__}: {exc})")


class IsoDateTime(click.ParamType):  # type: ignore[type-arg]
    """An ISO 8601 date and time, e.g. 2026-05-01T09:30:00+03:00 (a time zone is required)."""

    name = "ISO-DATETIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(
                f"{value!r} is not an ISO 8601 date and time (e.g. 2026-05-01T09:30:00+03:00)", param, ctx
            )

"""Every failure of a command as a plain line on stderr and an exit code, never a traceback.

Click exits 2 itself on bad usage; ``FailureBoundary`` (the group class of ``dispatcher``) turns
what commands raise into exit 1 with one line naming the problem: invalid settings (by variable),
Redis or the broker not answering, invalid input (field, value, rule), a store failure (with the ids
it did or may have stored), a file that cannot be read. Anything else is a bug: it is still one line,
and ``DISPATCHER_DEBUG=1`` shows the traceback to whoever is fixing it.
"""

from __future__ import annotations

import os
from typing import Any, NoReturn

import click
import redis
from kombu.exceptions import OperationalError

from dispatcher.errors import ConfigurationError, InvalidMessage, StoreError

#: Exit codes of every command (click exits 2 itself on bad usage).
FAILURE = 1
USAGE = 2
#: Set to 1 to see the traceback of an unexpected error (for a bug report).
DEBUG_VARIABLE = "DISPATCHER_DEBUG"
#: Ids a store failure names, at most this many per kind (the count is always printed).
SHOWN_IDS = 20


def fail(message: str) -> NoReturn:
    """Print ``message`` on stderr and exit 1."""
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(FAILURE)


def print_invalid(exc: InvalidMessage) -> None:
    """One block of field / value / rule lines per broken rule, on stderr."""
    click.echo(f"Error: invalid input ({exc.summary or f'{len(exc.problems)} problem(s)'})", err=True)
    for problem in exc.problems:
        click.echo(f"  field: {problem.field}\n  value: {problem.value!r}\n  rule:  {problem.rule}", err=True)


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


def report(exc: Exception) -> NoReturn:
    """Print what ``exc`` means for the person at the terminal and exit 1."""
    if isinstance(exc, InvalidMessage):
        print_invalid(exc)
        raise SystemExit(FAILURE)
    if isinstance(exc, StoreError):
        print_store_error(exc)
        raise SystemExit(FAILURE)
    if isinstance(exc, ConfigurationError):
        fail(str(exc))
    if isinstance(exc, redis.RedisError):
        # The exception text may name the host, never a password (redis-py leaves it out).
        fail(f"Redis does not answer ({type(exc).__name__}: {exc}); check DISPATCHER_REDIS_URL")
    if isinstance(exc, OperationalError):
        fail(f"the broker does not answer ({exc}); check DISPATCHER_BROKER_URL / DISPATCHER_REDIS_URL")
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        fail(f"{exc.strerror or exc}{where}")
    if isinstance(exc, UnicodeError):
        fail(f"cannot read the text ({exc}): use UTF-8")
    fail(
        f"unexpected {type(exc).__name__}: {exc} (a bug: please report it; "
        f"{DEBUG_VARIABLE}=1 shows where it happened)"
    )


class FailureBoundary(click.Group):
    """A click group whose commands' failures end in ``report``: one line, exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as exc:
            if os.environ.get(DEBUG_VARIABLE) == "1":
                raise
            report(exc)

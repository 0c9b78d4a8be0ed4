"""What the client commands (send, status, campaign) share: a ``Dispatcher`` from the environment
and option types. Failures become plain lines in ``failures``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import click

from dispatcher.producer import Dispatcher
from dispatcher.settings import load_settings


@contextmanager
def dispatcher_from_environment() -> Iterator[Dispatcher]:
    """A ``Dispatcher`` on the settings of the environment, closed on exit (its errors reach the
    command group's ``FailureBoundary``: one line, exit 1)."""
    with Dispatcher.from_settings(load_settings()) as dispatcher:
        yield dispatcher


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

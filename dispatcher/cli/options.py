"""Options several commands share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

CommandT = TypeVar("CommandT", bound=Callable[..., Any])

LOG_LEVELS = ("debug", "info", "warning", "error")


#: ``--deadline``: how long after its send time a message may still be attempted.
deadline_option = click.option(
    "--deadline",
    "deadline_s",
    type=click.FloatRange(min=0, min_open=True),
    help="No attempts after this many seconds from the send time [default: DISPATCHER_DEFAULT_DEADLINE_S].",
)


def server_options(*, port: int, log_level: str) -> Callable[[CommandT], CommandT]:
    """``--host``, ``--port`` and ``--log-level`` for a command that serves HTTP."""

    def decorate(command: CommandT) -> CommandT:
        command = click.option(
            "--log-level", default=log_level, show_default=True, type=click.Choice(LOG_LEVELS)
        )(command)
        command = click.option(
            "--port", default=port, show_default=True, type=click.IntRange(1, 65535), help="Port."
        )(command)
        return click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")(
            command
        )

    return decorate

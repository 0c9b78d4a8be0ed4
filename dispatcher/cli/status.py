"""``dispatcher status ID``: a message's state, provider facts and history."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from dispatcher.api.responses import MessageStatusOut
from dispatcher.cli.common import dispatcher_from_environment
from dispatcher.cli.failures import fail
from dispatcher.producer.status import MessageStatus


def _time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


def status_table(status: MessageStatus) -> str:
    """The human view: one field per line, then the history oldest first."""
    rows = [
        ("id", status.id),
        ("state", status.state + (" (final)" if status.final else "")),
        ("channel", status.channel or None),
        ("to", status.destination_masked),
        ("segments", f"{status.segments} ({status.encoding})" if status.segments is not None else None),
        ("provider", status.provider),
        ("lane", status.lane),
        ("campaign", status.campaign),
        ("created", _time(status.created_at)),
        ("deadline", _time(status.deadline)),
        ("attempts", str(status.attempts)),
        ("provider id", status.provider_message_id),
        ("error code", status.provider_error_code),
        ("reason", status.reason),
        ("fallback sms", status.fallback_id),
        ("fallback of", status.fallback_of),
    ]
    lines = [f"{name:<13} {value}" for name, value in rows if value is not None]
    lines.append("history:")
    lines += [
        f"  {_time(step.at)}  {step.source or '-':<10} -> {step.target:<11} {step.reason}"
        for step in status.history
    ]
    return "\n".join(lines)


@click.command()
@click.argument("message_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (every field, history included).")
def status(message_id: str, as_json: bool) -> None:
    """Show a message's state and history; exit 1 for an unknown id.

    \b
    Examples:
      dispatcher status 0193a1b2c3d4e5f6a7b8c9d0e1
      dispatcher status 0193a1b2c3d4e5f6a7b8c9d0e1 --json | jq .state
    """
    with dispatcher_from_environment() as dispatcher:
        found = dispatcher.status(message_id)
    if found is None:
        fail(f"no message {message_id!r}")
    if as_json:
        # The HTTP API's document: the same fields, ISO 8601 times, the number masked.
        click.echo(MessageStatusOut.of(found).model_dump_json(indent=2))
    else:
        click.echo(status_table(found))

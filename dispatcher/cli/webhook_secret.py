"""``dispatcher webhook-secret``: a new Standard Webhooks signing secret for DISPATCHER_WEBHOOK_SECRET."""

from __future__ import annotations

import click

from dispatcher.webhooks.signing import new_secret


@click.command("webhook-secret")
def webhook_secret() -> None:
    """Print a new webhook signing secret (whsec_ + base64 of 32 random bytes).

    Give it to the dispatcher as DISPATCHER_WEBHOOK_SECRET and to the receivers, which verify each
    POST with any Standard Webhooks library.

    \b
    Example:
      export DISPATCHER_WEBHOOK_SECRET="$(dispatcher webhook-secret)"
    """
    click.echo(new_secret())

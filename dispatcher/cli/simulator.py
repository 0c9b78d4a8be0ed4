"""``dispatcher simulator``: serve the provider stand-ins on one port."""

from __future__ import annotations

import click

from dispatcher.simulator.config import Credentials, MissingCredentials
from dispatcher.simulator.server import serve


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8900, show_default=True, type=click.IntRange(1, 65535), help="Port.")
@click.option(
    "--log-level",
    default="warning",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
def simulator(host: str, port: int, log_level: str) -> None:
    """Serve Revicom, Smartswitch and BSG stand-ins with fault injection and callbacks.

    The credentials it accepts come from the environment: DISPATCHER_REVICOM_TOKEN,
    DISPATCHER_SMARTSWITCH_LOGIN, DISPATCHER_SMARTSWITCH_PASSWORD and DISPATCHER_BSG_API_KEY
    (required), DISPATCHER_SIM_REVICOM_OTHER_TOKEN (optional: a valid token of another type).

    \b
    Example:
      DISPATCHER_REVICOM_TOKEN=$(echo -n key:pw | base64) ... dispatcher simulator --port 8900
    """
    try:
        credentials = Credentials.from_environment()
    except MissingCredentials as exc:
        click.echo(f"dispatcher simulator: {exc}", err=True)
        raise SystemExit(2) from None
    click.echo(f"simulator listening on http://{host}:{port}", err=True)
    serve(host, port, credentials, log_level=log_level)

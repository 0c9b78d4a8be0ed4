"""``dispatcher simulator``: serve the provider stand-ins on one port."""

from __future__ import annotations

import click

from dispatcher.cli.options import server_options
from dispatcher.simulator.config import Credentials, MissingCredentials
from dispatcher.simulator.server import serve


@click.command()
@server_options(port=8900, log_level="warning")
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

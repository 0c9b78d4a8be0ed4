"""``dispatcher api``: serve provider delivery callbacks (``POST /v1/callbacks/{provider}/{secret}``)."""

from __future__ import annotations

import click
import uvicorn

from dispatcher.accounts import load_accounts
from dispatcher.api import create_app
from dispatcher.callbacks import CallbackService
from dispatcher.cli.options import server_options
from dispatcher.producer import celery_client
from dispatcher.settings import load_settings
from dispatcher.store import Store


@click.command()
@server_options(port=8080, log_level="info")
def api(host: str, port: int, log_level: str) -> None:
    """Receive delivery callbacks from Revicom, BSG and Smartswitch.

    Needs DISPATCHER_CALLBACK_SECRET (the URL path segment providers must present); producers with
    DISPATCHER_CALLBACK_BASE_URL set (this server's public address) put the callback URL into every
    Revicom and BSG message. Smartswitch's DLR URL is set once per account at Smartswitch:
    <base>/v1/callbacks/smartswitch/<secret>[?account=<name>].
    """
    settings = load_settings()
    if settings.callback_secret is None:
        click.echo("dispatcher api: set DISPATCHER_CALLBACK_SECRET (16+ characters)", err=True)
        raise SystemExit(2)
    service = CallbackService(
        Store.from_settings(settings), load_accounts(settings), settings, celery_client(settings)
    )
    app = create_app(service, secret=settings.callback_secret.get_secret_value())
    click.echo(f"dispatcher api listening on http://{host}:{port}", err=True)
    # access_log off: request lines carry the secret in the path.
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)

"""``dispatcher api``: the HTTP API — producers' /v1 routes, provider callbacks, /healthz, /metrics."""

from __future__ import annotations

import click
import uvicorn

from dispatcher.api.server import app_from_settings
from dispatcher.cli.options import server_options
from dispatcher.logs import install_json_logging
from dispatcher.settings import load_settings


@click.command()
@server_options(port=8080, log_level="info")
def api(host: str, port: int, log_level: str) -> None:
    """Serve the HTTP API: /v1/messages, /v1/campaigns, provider callbacks, /healthz, /metrics.

    Producer routes need a bearer key from DISPATCHER_API_KEYS (comma-separated). Callbacks need
    DISPATCHER_CALLBACK_SECRET (the URL path segment providers must present; unset: callbacks answer
    404); producers with DISPATCHER_CALLBACK_BASE_URL set put the callback URL into every Revicom and
    BSG message. Smartswitch's DLR URL is set once per account at Smartswitch:
    <base>/v1/callbacks/smartswitch/<secret>[?account=<name>]. OpenAPI: /openapi.json, /docs.

    \b
    Example:
      DISPATCHER_API_KEYS=k1 DISPATCHER_CALLBACK_SECRET=... dispatcher api --host 0.0.0.0 --port 8080
    """
    settings = load_settings()
    json_logs = settings.log_format == "json"
    if json_logs:
        install_json_logging()
    app = app_from_settings(settings)
    click.echo(f"dispatcher api listening on http://{host}:{port}", err=True)
    # access_log off: callback request lines carry the secret in the path.
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        log_config=None if json_logs else uvicorn.config.LOGGING_CONFIG,
    )

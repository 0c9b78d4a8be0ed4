"""The callback URL we give providers: ``<base>/v1/callbacks/<provider>/<secret>[?account=<name>]``."""

from __future__ import annotations

from urllib.parse import quote

from dispatcher.settings import Settings

CALLBACK_PATH = "/v1/callbacks"


def callback_url(settings: Settings, provider: str, account: str) -> str | None:
    """The URL for ``account``'s callbacks, or None when callbacks are not enabled.

    The account is named only when it is not the provider's own name, which keeps the URL short
    (BSG takes at most 100 characters).
    """
    if settings.callback_base_url is None or settings.callback_secret is None:
        return None
    secret = quote(settings.callback_secret.get_secret_value(), safe="")
    url = f"{settings.callback_base_url.rstrip('/')}{CALLBACK_PATH}/{provider}/{secret}"
    return url if account == provider else f"{url}?account={quote(account, safe='')}"

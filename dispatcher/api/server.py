"""The API app wired from the settings: what ``dispatcher api`` serves."""

from __future__ import annotations

import redis
from fastapi import FastAPI

from dispatcher.accounts import load_accounts
from dispatcher.api.app import create_app
from dispatcher.api.auth import api_keys_of
from dispatcher.api.body_limit import BodyLimits
from dispatcher.api.health import Check
from dispatcher.callbacks import CallbackService
from dispatcher.producer import Dispatcher, celery_client
from dispatcher.settings import Settings
from dispatcher.store import Store

#: A health check gives up after this long: a probe must answer before its own timeout.
CHECK_TIMEOUT_S = 2.0


def app_from_settings(settings: Settings) -> FastAPI:
    """Every route: producer API (keys from DISPATCHER_API_KEYS), callbacks (if a secret is set),
    ``/healthz`` and ``/metrics``."""
    accounts = load_accounts(settings)
    tasks = celery_client(settings)
    dispatcher = Dispatcher(Store.from_settings(settings), accounts, settings, tasks=tasks)
    service = CallbackService(Store.from_settings(settings), accounts, settings, tasks)
    secret = settings.callback_secret.get_secret_value() if settings.callback_secret else None
    return create_app(
        service,
        secret=secret,
        dispatcher=dispatcher,
        api_keys=api_keys_of(settings),
        checks=health_checks(settings),
        body_limits=BodyLimits.from_settings(settings),
    )


def health_checks(settings: Settings) -> dict[str, Check]:
    probe = redis.Redis.from_url(
        str(settings.redis_url), socket_timeout=CHECK_TIMEOUT_S, socket_connect_timeout=CHECK_TIMEOUT_S
    )
    broker = celery_client(settings)

    def broker_reachable() -> None:
        with broker.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, timeout=CHECK_TIMEOUT_S)

    return {"redis": probe.ping, "broker": broker_reachable}

"""`dispatcher api` for tests, served in this process on a free port by uvicorn.

``api``: the callback app, with the pipeline's settings pointed at it (callbacks enabled, fast
webhook retries). ``producer_api``: every route, with a real ``Dispatcher`` on the test's key prefix
and the API key ``API_KEY`` (no workers: messages wait in their lanes).

Import the fixtures into a test module: ``from tests.integration.api_fixtures import api, pipeline_env``.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from fastapi import FastAPI

from dispatcher import Dispatcher
from dispatcher.accounts import Account
from dispatcher.api import create_app
from dispatcher.api.server import health_checks
from dispatcher.callbacks import CallbackService
from dispatcher.producer import celery_client
from dispatcher.settings import Settings
from dispatcher.store import Store
from dispatcher.webhooks.signing import new_secret
from tests.integration.worker_fixtures import PipelineProcesses

CALLBACK_SECRET = secrets.token_urlsafe(18)
WEBHOOK_SECRET = new_secret()
API_KEY = secrets.token_urlsafe(24)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def api_port() -> int:
    return free_port()


@pytest.fixture
def pipeline_env(pipeline_env: dict[str, str], api_port: int) -> dict[str, str]:
    return {
        **pipeline_env,
        "DISPATCHER_CALLBACK_BASE_URL": f"http://127.0.0.1:{api_port}",
        "DISPATCHER_CALLBACK_SECRET": CALLBACK_SECRET,
        "DISPATCHER_WEBHOOK_SECRET": WEBHOOK_SECRET,
        # The tests' receivers listen on loopback, which webhooks may not reach otherwise.
        "DISPATCHER_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8",
        "DISPATCHER_WEBHOOK_BACKOFF_BASE_S": "0.2",
        "DISPATCHER_WEBHOOK_TIMEOUT_S": "2",
    }


@pytest.fixture
def api(
    store: Store, accounts: dict[str, Account], pipeline: PipelineProcesses, api_port: int
) -> Iterator[str]:
    """The callback API's base URL (``http://127.0.0.1:<port>``), served until the test ends."""
    service = CallbackService(store, accounts, pipeline.settings, pipeline.tasks)
    with serve(create_app(service, secret=CALLBACK_SECRET), api_port) as url:
        yield url


@pytest.fixture
def producer_api(
    store: Store, accounts: dict[str, Account], redis_url: str, key_prefix: str, api_port: int
) -> Iterator[str]:
    """The whole API's base URL; ``/v1`` routes take ``Authorization: Bearer <API_KEY>``."""
    settings = Settings(redis_url=redis_url, key_prefix=key_prefix, webhook_secret=WEBHOOK_SECRET)
    tasks = celery_client(settings)
    with Dispatcher(store, accounts, settings, tasks=tasks) as dispatcher:
        service = CallbackService(store, accounts, settings, tasks)
        app = create_app(
            service,
            secret=CALLBACK_SECRET,
            dispatcher=dispatcher,
            api_keys=["another-key-0123456789", API_KEY],
            checks=health_checks(settings),
        )
        with serve(app, api_port) as url:
            yield url


@contextmanager
def serve(app: FastAPI, port: int) -> Iterator[str]:
    """``app`` served by uvicorn in a thread of this process until the block ends."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the API did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)

"""`dispatcher api` for pipeline tests: the callback app served in this process on a free port, and
the pipeline's settings pointed at it (callbacks enabled, fast webhook retries).

Import the fixtures into a test module: ``from tests.integration.api_fixtures import api, pipeline_env``.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from dispatcher.accounts import Account
from dispatcher.api import create_app
from dispatcher.callbacks import CallbackService
from dispatcher.store import Store
from tests.integration.worker_fixtures import PipelineProcesses

CALLBACK_SECRET = secrets.token_urlsafe(18)
WEBHOOK_SECRET = secrets.token_urlsafe(18)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def api_port() -> int:
    return _free_port()


@pytest.fixture
def pipeline_env(pipeline_env: dict[str, str], api_port: int) -> dict[str, str]:
    return {
        **pipeline_env,
        "DISPATCHER_CALLBACK_BASE_URL": f"http://127.0.0.1:{api_port}",
        "DISPATCHER_CALLBACK_SECRET": CALLBACK_SECRET,
        "DISPATCHER_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "DISPATCHER_WEBHOOK_BACKOFF_BASE_S": "0.2",
        "DISPATCHER_WEBHOOK_TIMEOUT_S": "2",
    }


@pytest.fixture
def api(
    store: Store, accounts: dict[str, Account], pipeline: PipelineProcesses, api_port: int
) -> Iterator[str]:
    """The callback API's base URL (``http://127.0.0.1:<port>``), served until the test ends."""
    service = CallbackService(store, accounts, pipeline.settings, pipeline.tasks)
    app = create_app(service, secret=CALLBACK_SECRET)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=api_port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the API did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{api_port}"
    server.should_exit = True
    thread.join(timeout=10)

"""Status webhooks out, through real worker and beat processes and the simulator's callbacks: a
receiver failing twice then succeeding gets every status change exactly once, signed."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest

from dispatcher import Dispatcher
from dispatcher.accounts import Account
from dispatcher.models.revicom import RevicomSms
from dispatcher.simulator.client import SimulatorClient
from dispatcher.store import Store
from dispatcher.webhooks.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.integration.api_fixtures import WEBHOOK_SECRET, api, api_port, pipeline_env
from tests.integration.worker_fixtures import PipelineProcesses, numbers, wait_for

__all__ = ["api", "api_port", "pipeline_env"]  # fixtures used by name
pytestmark = pytest.mark.integration


class FlakyReceiver:
    """Answers 500 to its first ``failures`` POSTs, then 200; keeps what it accepted."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.accepted: list[tuple[dict[str, Any], bool]] = []  # (event, signature valid)
        self.refused = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    refuse = receiver.refused < receiver.failures
                    if refuse:
                        receiver.refused += 1
                    else:
                        valid = verify(
                            WEBHOOK_SECRET,
                            self.headers[TIMESTAMP_HEADER],
                            body,
                            self.headers[SIGNATURE_HEADER],
                        )
                        receiver.accepted.append((orjson.loads(body), valid))
                self.send_response(500 if refuse else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def flaky() -> Iterator[FlakyReceiver]:
    receiver = FlakyReceiver(failures=2)
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def test_a_receiver_failing_twice_gets_every_status_change_once_signed(
    store: Store,
    accounts: dict[str, Account],
    sim: SimulatorClient,
    pipeline: PipelineProcesses,
    api: str,
    flaky: FlakyReceiver,
) -> None:
    sim.configure(callback_delay_s=[0.05, 0.1], outcomes={"revicom": {"delivered": 1.0}})
    pipeline.start_worker()
    pipeline.start_beat()
    dispatcher = Dispatcher(store, accounts, pipeline.settings, tasks=pipeline.tasks)
    message = RevicomSms(destination=numbers(1)[0], sender_name="SHOP", text="Hi")

    message_id = dispatcher.send(message, webhook_url=flaky.url)

    expected = ["queued", "sending", "submitted", "sent", "delivered"]
    wait_for(lambda: len(flaky.accepted) >= len(expected), timeout_s=20, what="every event accepted")
    events = [event for event, _ in flaky.accepted]
    assert flaky.refused == 2
    assert all(valid for _, valid in flaky.accepted)
    assert {e["message_id"] for e in events} == {message_id}
    assert Counter(e["event_id"] for e in events).most_common(1)[0][1] == 1
    assert sorted(e["state"] for e in events) == sorted(expected)

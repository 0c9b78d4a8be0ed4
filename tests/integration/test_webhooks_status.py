"""Status webhooks out, through real worker and beat processes and the simulator's callbacks: a
receiver failing twice then succeeding gets every status change exactly once, in order, signed as
Standard Webhooks; URLs webhooks may not reach are refused at intake, and dropped (logged, counted)
when a worker finds them at send time."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest
import requests
from prometheus_client import REGISTRY
from standardwebhooks import Webhook, WebhookVerificationError

from dispatcher import Dispatcher
from dispatcher.accounts import Account
from dispatcher.errors import InvalidMessage
from dispatcher.models.revicom import RevicomSms
from dispatcher.settings import Settings
from dispatcher.simulator.client import SimulatorClient
from dispatcher.store import Store
from dispatcher.webhooks.addresses import AddressPolicy, WebhookAddressRefused, parse_networks
from dispatcher.webhooks.intake import UNSIGNED_RULE
from dispatcher.webhooks.sender import deliver_due
from dispatcher.webhooks.transport import guarded_session
from tests.integration.api_fixtures import API_KEY, WEBHOOK_SECRET, api, api_port, pipeline_env, producer_api
from tests.integration.worker_fixtures import PipelineProcesses, numbers, wait_for

__all__ = ["api", "api_port", "pipeline_env", "producer_api"]  # fixtures used by name
pytestmark = pytest.mark.integration

SMS = RevicomSms(destination="79161234567", sender_name="S", text="t")


def verified(body: bytes, headers: dict[str, str]) -> bool:
    """What a receiver does with the Standard Webhooks library and the shared secret."""
    try:
        Webhook(WEBHOOK_SECRET).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


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
                        receiver.accepted.append((orjson.loads(body), verified(body, dict(self.headers))))
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
    # In order, although the first event's first two POSTs failed: the later ones waited for it.
    assert [e["state"] for e in events] == expected
    assert [e["sequence"] for e in events] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1/", "http://10.0.0.1/", "http://169.254.169.254/", "http://localhost:8080/"]
)
def test_webhooks_to_internal_addresses_are_refused_at_intake_by_the_api(producer_api: str, url: str) -> None:
    answer = requests.post(
        f"{producer_api}/v1/messages",
        json={
            "type": "revicom_sms",
            "destination": "79161234567",
            "sender_name": "SHOP",
            "text": "Hi",
            "webhook_url": url,
        },
        headers={"Authorization": f"Bearer {API_KEY}"},
        timeout=10,
    )

    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["error"]["problems"]
    assert (problem["field"], problem["value"]) == ("webhook_url", url)
    assert "webhooks go only to public addresses" in problem["rule"]


def test_a_deployment_without_a_secret_refuses_webhook_urls(
    store: Store, accounts: dict[str, Account], redis_url: str, key_prefix: str
) -> None:
    settings = Settings(redis_url=redis_url, key_prefix=key_prefix)
    with Dispatcher(store, accounts, settings) as dispatcher, pytest.raises(InvalidMessage) as raised:
        dispatcher.send(
            RevicomSms(destination="79161234567", sender_name="S", text="t"),
            webhook_url="https://93.184.215.14/",
        )

    assert raised.value.problems[0].rule == UNSIGNED_RULE
    assert store.lanes() == []


def test_an_event_whose_address_is_no_longer_allowed_is_dropped_logged_and_counted(
    store: Store,
    accounts: dict[str, Account],
    redis_url: str,
    key_prefix: str,
    flaky: FlakyReceiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Intake allowed loopback; the sender does not (a name that now resolves inside, say).
    producer = Settings(
        redis_url=redis_url,
        key_prefix=key_prefix,
        webhook_secret=WEBHOOK_SECRET,
        webhook_allow_networks="127.0.0.0/8",
    )
    sender = Settings(redis_url=redis_url, key_prefix=key_prefix, webhook_secret=WEBHOOK_SECRET)
    with Dispatcher(store, accounts, producer) as dispatcher:
        dispatcher.send(
            RevicomSms(destination="79161234567", sender_name="S", text="t"), webhook_url=flaky.url
        )
    assert store.scan_webhooks(default_url=None, event_ttl_s=60) == 1
    dropped_before = REGISTRY.get_sample_value("dispatcher_webhook_events_total", {"result": "dropped"}) or 0

    with caplog.at_level(logging.WARNING, logger="dispatcher.webhooks.sender"):
        report = deliver_due(store, sender, slice_s=2)

    assert (report.delivered, report.dropped) == (0, 1)
    assert flaky.accepted == []
    assert flaky.refused == 0, "not a byte reached the receiver"
    assert store.pending_webhooks() == 0
    assert "dropped after its URL's address is not allowed" in caplog.text
    assert (
        REGISTRY.get_sample_value("dispatcher_webhook_events_total", {"result": "dropped"})
        == dropped_before + 1
    )


def test_the_connection_itself_refuses_an_address_not_allowed(flaky: FlakyReceiver) -> None:
    # The name check can be fooled by DNS answering differently later; the socket's peer cannot.
    with guarded_session(AddressPolicy()) as session, pytest.raises(WebhookAddressRefused, match="loopback"):
        session.post(flaky.url, data=b"{}", timeout=5)

    assert (flaky.accepted, flaky.refused) == ([], 0)
    with guarded_session(AddressPolicy(parse_networks("127.0.0.0/8"))) as allowed:
        assert allowed.post(flaky.url, data=b"{}", timeout=5).status_code == 500  # reached it

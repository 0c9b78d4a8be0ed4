"""Bad input over real HTTP, against a real Redis: random bodies on every callback endpoint, bodies
too large for the API, batches and campaigns past their limits.

Whatever arrives, the API answers in its own JSON shape, never 500 and never with a traceback, and
stores nothing it refused. The size cap is ``dispatcher.api.body_limit`` (settings
``api_max_body_bytes`` / ``api_max_upload_bytes``).
"""

from __future__ import annotations

import csv
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatcher import Dispatcher
from dispatcher.accounts import Account
from dispatcher.api import create_app
from dispatcher.api.body_limit import BodyLimits
from dispatcher.callbacks import CallbackService
from dispatcher.producer import celery_client
from dispatcher.settings import Settings
from dispatcher.store import Store
from tests.integration.api_fixtures import API_KEY, CALLBACK_SECRET, api_port, free_port, producer_api, serve
from tests.integration.test_callbacks_api import submitted_message
from tests.integration.worker_fixtures import numbers

__all__ = ["api_port", "producer_api"]  # fixtures used by name
pytestmark = pytest.mark.integration

AUTH = {"Authorization": f"Bearer {API_KEY}"}
TEN_MB = 10_000_000
DEFAULT_BODY_BYTES = Settings.model_fields["api_max_body_bytes"].default
PROVIDERS = ("revicom", "bsg", "smartswitch")
TEMPLATE = {"type": "revicom_sms", "sender_name": "SHOP", "text": "Hi {name}, 20% off today"}


def snapshot(client: redis.Redis, prefix: str) -> dict[bytes, bytes | None]:
    """Every key under the test's prefix with its serialised value: Celery's queues and the metrics
    counters (``{prefix}:stats``, which count refused campaigns as discarded) aside."""
    keys = [
        key
        for key in client.scan_iter(match=f"{{{prefix}}}:*", count=10_000)
        if b":celery" not in key and not key.endswith(b"}:stats")
    ]
    return {key: client.dump(key) for key in keys}


def assert_error_shape(answer: requests.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text[:500]
    assert answer.headers["content-type"] == "application/json"
    body: dict[str, Any] = answer.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "problems"}
    assert body["error"]["code"] == code
    return body


def sms(number: str) -> dict[str, Any]:
    return {"type": "revicom_sms", "destination": number, "sender_name": "SHOP", "text": "Shipped"}


# ---- random bodies on every callback endpoint ----------------------------------------------------

json_documents = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "message_uuid",
                    "status",
                    "callback_event",
                    "id",
                    "msisdn",
                    "message_id",
                    "message_state",
                    "x",
                ]
            )
            | st.text(max_size=8),
            children,
            max_size=5,
        )
    ),
    max_leaves=15,
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_documents.map(orjson.dumps),
    st.integers(1, 5000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.integers(1, 5000).map(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth),
    st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=4).map(
        lambda fields: "&".join(f"{k}={v}" for k, v in fields.items()).encode()
    ),
)
content_types = st.sampled_from(
    [
        None,
        "application/json",
        "application/json; charset=latin-1",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "text/plain",
        "application/xml",
        "application/octet-stream",
        "garbage/;;;=",
    ]
)
CALLBACK_STATUSES = {200, 400, 404, 413}


@pytest.fixture
def target(store: Store, provider: str) -> str:
    """A message of ``provider`` submitted under the provider id ``p1234567``: what callbacks hit."""
    return submitted_message(store, provider, "p1234567")


@pytest.mark.parametrize("provider", PROVIDERS)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_callback_bodies_never_500_never_a_traceback_and_change_nothing(
    producer_api: str,
    store: Store,
    redis_client: redis.Redis,
    key_prefix: str,
    provider: str,
    target: str,
    data: st.DataObject,
) -> None:
    before = snapshot(redis_client, key_prefix)
    body = data.draw(bodies, label="body")
    content_type = data.draw(content_types, label="content type")
    headers = {} if content_type is None else {"Content-Type": content_type}

    answer = requests.post(
        f"{producer_api}/v1/callbacks/{provider}/{CALLBACK_SECRET}", data=body, headers=headers, timeout=10
    )

    assert answer.status_code in CALLBACK_STATUSES, (answer.status_code, answer.text[:300])
    assert "Traceback" not in answer.text
    assert isinstance(answer.json(), dict)
    assert snapshot(redis_client, key_prefix) == before, (target, body[:100])


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_huge_callback_body_is_413_before_it_is_read(
    producer_api: str, store: Store, redis_client: redis.Redis, key_prefix: str, provider: str
) -> None:
    submitted_message(store, provider, "p1234567")
    before = snapshot(redis_client, key_prefix)

    answer = requests.post(
        f"{producer_api}/v1/callbacks/{provider}/{CALLBACK_SECRET}",
        data=b"[" + b'{"message_uuid": "p1234567"},' * (TEN_MB // 30),
        headers={"Content-Type": "application/json"},
        timeout=20,
    )

    assert_error_shape(answer, 413, "too_large")
    assert snapshot(redis_client, key_prefix) == before


# ---- bodies over the API's size cap --------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/campaigns"])
def test_a_10_mb_body_is_413_in_the_error_shape_and_stores_nothing(
    producer_api: str, redis_client: redis.Redis, key_prefix: str, path: str
) -> None:
    # A body that would be valid if it were small: the size alone refuses it.
    if path == "/v1/messages":
        document: Any = {"messages": [sms(n) for n in numbers(TEN_MB // 80)]}
    else:
        document = {
            "template": TEMPLATE,
            "recipients": [{"phone": n, "name": "A"} for n in numbers(TEN_MB // 35)],
        }
    payload = orjson.dumps(document)
    assert len(payload) > TEN_MB > DEFAULT_BODY_BYTES

    answer = requests.post(
        f"{producer_api}{path}",
        data=payload,
        headers={**AUTH, "Content-Type": "application/json"},
        timeout=20,
    )

    body = assert_error_shape(answer, 413, "too_large")
    assert str(DEFAULT_BODY_BYTES) in body["error"]["message"]
    assert snapshot(redis_client, key_prefix) == {}


def _raw_exchange(url: str, head: bytes, parts: Iterator[bytes], *, timeout_s: float = 5) -> bytes:
    """Send ``head`` and then ``parts`` on one connection, never finishing the body; the answer."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout_s) as connection:
        connection.sendall(head)
        for part in parts:
            try:
                connection.sendall(part)
            except OSError:  # the server answered and stopped reading: fine, read the answer
                break
        answer = b""
        deadline = time.monotonic() + timeout_s
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            assert time.monotonic() < deadline, f"no complete answer: {answer[:300]!r}"
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
    return answer


def _head(path: str, framing: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {API_KEY}\r\n"
        f"Content-Type: application/json\r\n{framing}\r\n\r\n"
    ).encode()


def test_a_declared_oversized_body_is_refused_before_a_byte_of_it_is_sent(producer_api: str) -> None:
    # Without an up-front check the server would wait for the 10 MB and this would time out.
    answer = _raw_exchange(producer_api, _head("/v1/messages", f"Content-Length: {TEN_MB}"), iter(()))

    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 413 Request Entity Too Large"
    assert json.loads(rest.partition(b"\r\n\r\n")[2])["error"]["code"] == "too_large"


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_cap_without_its_end(
    producer_api: str, redis_client: redis.Redis, key_prefix: str
) -> None:
    chunk = b"x" * 65536
    sent_chunks = DEFAULT_BODY_BYTES // len(chunk) + 2  # past the cap, and no terminating 0-chunk
    parts = iter([b"%x\r\n%s\r\n" % (len(chunk), chunk)] * sent_chunks)

    answer = _raw_exchange(producer_api, _head("/v1/campaigns", "Transfer-Encoding: chunked"), parts)

    assert answer.startswith(b"HTTP/1.1 413 "), answer[:300]
    assert b'"code":"too_large"' in answer
    assert snapshot(redis_client, key_prefix) == {}


@pytest.fixture
def small_cap_api(
    store: Store, accounts: dict[str, Account], redis_url: str, key_prefix: str
) -> Iterator[str]:
    """The whole API with a 64 KiB cap on bodies and a 1 MiB cap on CSV uploads."""
    settings = Settings(redis_url=redis_url, key_prefix=key_prefix)
    tasks = celery_client(settings)
    with Dispatcher(store, accounts, settings, tasks=tasks) as dispatcher:
        app = create_app(
            CallbackService(store, accounts, settings, tasks),
            secret=CALLBACK_SECRET,
            dispatcher=dispatcher,
            api_keys=[API_KEY],
            body_limits=BodyLimits(body_bytes=64 * 1024, upload_bytes=1024 * 1024),
        )
        with serve(app, free_port()) as url:
            yield url


def test_csv_uploads_have_their_own_larger_cap(small_cap_api: str, store: Store, tmp_path: Path) -> None:
    rows = numbers(6000)  # ~140 kB: over the body cap, under the upload cap
    csv_path = tmp_path / "r.csv"
    csv_path.write_text("phone,name\n" + "".join(f"{n},Ann {i}\n" for i, n in enumerate(rows)))
    campaign = {"campaign": json.dumps({"template": TEMPLATE})}

    def upload(path: Path) -> requests.Response:
        with path.open("rb") as handle:
            return requests.post(
                f"{small_cap_api}/v1/campaigns/upload",
                files={"file": ("r.csv", handle, "text/csv")},
                data=campaign,
                headers=AUTH,
                timeout=30,
            )

    accepted = upload(csv_path)
    inline = requests.post(
        f"{small_cap_api}/v1/campaigns",
        json={"template": TEMPLATE, "recipients": [{"phone": n, "name": "Ann"} for n in rows]},
        headers=AUTH,
        timeout=30,
    )
    huge_path = tmp_path / "huge.csv"
    huge_path.write_text("phone,name\n" + f"{rows[0]},Ann\n" * 80_000)  # ~1.3 MB
    refused = upload(huge_path)

    assert accepted.status_code == 202, accepted.text
    assert_error_shape(inline, 413, "too_large")
    assert "65536" in inline.json()["error"]["message"]
    assert_error_shape(refused, 413, "too_large")
    assert store.lane_depth("revicom:bulk") == 6000


# ---- batch and campaign limits --------------------------------------------------------------------


def test_a_1001_message_revicom_batch_is_accepted_whole_and_left_to_the_workers_to_split(
    producer_api: str, store: Store
) -> None:
    # docs/api.md: a batch holds up to 10,000 messages; Revicom's 1,000 per request is the workers'
    # business (test_pipeline_sending covers the split), not the producer's.
    destinations = numbers(1001)

    answer = requests.post(
        f"{producer_api}/v1/messages",
        json={"messages": [sms(n) for n in destinations]},
        headers=AUTH,
        timeout=30,
    )

    assert answer.status_code == 202, answer.text[:300]
    ids = answer.json()["ids"]
    assert len(ids) == len(set(ids)) == 1001
    assert store.lane_depth("revicom:bulk") == 1001
    last = store.get(ids[-1])
    assert last is not None
    assert orjson.loads(last.wire)["destination"] == destinations[-1]


def test_a_batch_over_10000_messages_is_refused_whole_and_stores_nothing(
    producer_api: str, redis_client: redis.Redis, key_prefix: str
) -> None:
    answer = requests.post(
        f"{producer_api}/v1/messages",
        json={"messages": [sms(n) for n in numbers(10_001)]},
        headers=AUTH,
        timeout=30,
    )

    body = assert_error_shape(answer, 422, "invalid_request")
    [problem] = body["error"]["problems"]
    assert problem["field"] == "messages"
    assert "10000" in problem["rule"]
    assert snapshot(redis_client, key_prefix) == {}


def test_a_100000_row_csv_with_bad_rows_at_its_end_is_refused_naming_them_and_stores_nothing(
    producer_api: str, redis_client: redis.Redis, key_prefix: str, tmp_path: Path
) -> None:
    # The bad rows sit in the last chunk: 99,000 good rows are checked and held first, then discarded.
    bad = {99_001: "12", 99_500: "not a number", 99_999: "+7916"}
    csv_path = tmp_path / "recipients.csv"
    with csv_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["phone", "name"])
        for index, number in enumerate(numbers(100_000)):
            writer.writerow([bad.get(index, number), f"Ann {index}"])

    with csv_path.open("rb") as handle:
        answer = requests.post(
            f"{producer_api}/v1/campaigns/upload",
            files={"file": ("recipients.csv", handle, "text/csv")},
            data={"campaign": json.dumps({"template": TEMPLATE, "campaign_id": "big-broken"})},
            headers=AUTH,
            timeout=60,
        )

    body = assert_error_shape(answer, 422, "invalid_request")
    named = {(p["field"], p["value"]) for p in body["error"]["problems"]}
    # Lines count from the header (line 1): row index 99_001 is line 99_003.
    assert named == {(f"line {row + 2}, column phone", value) for row, value in bad.items()}
    assert body["error"]["message"].startswith("3 of 100000 recipients are invalid")
    assert snapshot(redis_client, key_prefix) == {}
    assert requests.get(f"{producer_api}/v1/campaigns/big-broken", headers=AUTH, timeout=5).status_code == 404

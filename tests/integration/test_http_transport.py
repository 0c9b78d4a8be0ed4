"""HttpTransport turns every network failure into the error tree, on real sockets."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from dispatcher import errors
from dispatcher.processes import free_port
from dispatcher.providers.base import HttpTransport

pytestmark = pytest.mark.integration

Handler = Callable[[socket.socket], None]


@pytest.fixture
def raw_server() -> Iterator[Callable[[Handler], str]]:
    """A TCP server on 127.0.0.1 whose every connection is handled by the given function."""
    listeners: list[socket.socket] = []

    def start(handler: Handler) -> str:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)

        def serve() -> None:
            while True:
                try:
                    connection, _ = listener.accept()
                except OSError:
                    return
                with connection:
                    handler(connection)

        threading.Thread(target=serve, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}"

    yield start
    for listener in listeners:
        listener.close()


def read_request(connection: socket.socket) -> None:
    connection.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return
        data += chunk


def answer(raw: bytes) -> Handler:
    def handler(connection: socket.socket) -> None:
        read_request(connection)
        connection.sendall(raw)

    return handler


def transport(url: str, read_timeout_s: float = 5.0) -> HttpTransport:
    return HttpTransport(provider="test", base_url=url, connect_timeout_s=2, read_timeout_s=read_timeout_s)


def test_connection_refused_is_retryable() -> None:
    with pytest.raises(errors.ConnectFailed):
        transport(f"http://127.0.0.1:{free_port()}").request("POST", "/x", json_body=[])


def test_no_answer_within_read_timeout_is_ambiguous(raw_server: Callable[[Handler], str]) -> None:
    release = threading.Event()

    def hang(connection: socket.socket) -> None:
        read_request(connection)
        release.wait(5)

    url = raw_server(hang)
    try:
        with pytest.raises(errors.ResponseTimedOut):
            transport(url, read_timeout_s=0.3).request("POST", "/x", json_body=[])
    finally:
        release.set()


def test_connection_closed_after_the_request_is_ambiguous(raw_server: Callable[[Handler], str]) -> None:
    url = raw_server(read_request)  # reads the request, then closes without a response

    with pytest.raises(errors.ConnectionLost):
        transport(url).request("POST", "/x", json_body=[])


def test_429_carries_retry_after(raw_server: Callable[[Handler], str]) -> None:
    url = raw_server(answer(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 2\r\nContent-Length: 0\r\n\r\n"))

    with pytest.raises(errors.RateLimited) as caught:
        transport(url).request("POST", "/x", json_body=[])
    assert caught.value.retry_after_s == 2.0


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retryable(raw_server: Callable[[Handler], str], status: int) -> None:
    url = raw_server(answer(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n".encode()))

    with pytest.raises(errors.ProviderUnavailable):
        transport(url).request("POST", "/x", json_body=[])


def test_internal_server_error_is_ambiguous(raw_server: Callable[[Handler], str]) -> None:
    url = raw_server(answer(b"HTTP/1.1 500 Oops\r\nContent-Length: 4\r\n\r\nboom"))

    with pytest.raises(errors.UnexpectedResponse):
        transport(url).request("POST", "/x", json_body=[])


def test_other_statuses_are_returned_with_their_body(raw_server: Callable[[Handler], str]) -> None:
    body = b'{"error":{"code":4012,"msg":"Bad credentials"}}'
    head = (
        f"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    url = raw_server(answer(head.encode() + body))

    reply = transport(url).request("POST", "/x", json_body=[])

    assert reply.status == 401
    assert reply.json() == {"error": {"code": 4012, "msg": "Bad credentials"}}
    assert reply.headers["content-type"] == "application/json"


def test_body_that_is_not_json_is_unexpected(raw_server: Callable[[Handler], str]) -> None:
    url = raw_server(answer(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"))

    reply = transport(url).request("GET", "/x")
    with pytest.raises(errors.UnexpectedResponse):
        reply.json()


def test_error_text_never_contains_the_query_string() -> None:
    with pytest.raises(errors.ConnectFailed) as caught:
        transport(f"http://127.0.0.1:{free_port()}").request("POST", "/api", params={"_password": "hunter2"})
    assert "hunter2" not in str(caught.value)

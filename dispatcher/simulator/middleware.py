"""The layer every provider request passes: request log, URL length limit and injected faults.

Control endpoints (``/_sim/...``) bypass it: they are neither logged nor faulted.
"""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dispatcher.simulator.faults import Fault
from dispatcher.simulator.state import SimulatorState

CONTROL_PREFIX = "/_sim"


def request_url_bytes(scope: Scope) -> int:
    """Length of the URL the client used: ``http://host[:port]/path?query``."""
    host = next((value for name, value in scope["headers"] if name == b"host"), b"")
    query: bytes = scope["query_string"]
    path: bytes = scope.get("raw_path") or scope["path"].encode()
    return len(b"http://") + len(host) + len(path) + (1 + len(query) if query else 0)


async def drop_connection(receive: Receive) -> None:
    """Close the client's connection without any response.

    ASGI has no "abort" message, so this reaches uvicorn's transport through the ``receive``
    callable it handed us (a bound method of its request cycle), then waits until uvicorn has seen
    the disconnect, so that it does not answer with its own 500 instead.
    """
    cycle = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise RuntimeError("this server does not expose its transport: cannot drop the connection")
    transport.close()
    for _ in range(100):
        if getattr(cycle, "disconnected", True):
            return
        await asyncio.sleep(0.001)


async def _plain_response(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _fault_response(send: Send, fault: Fault) -> None:
    status = fault.response_status()
    headers = [(b"content-type", b"application/json")]
    if fault.kind == "rate_limit":
        headers.append((b"retry-after", f"{fault.retry_after:g}".encode()))
    body = orjson.dumps({"message": HTTPStatus(status).phrase})
    await _plain_response(send, status, body, headers)


class SimulatorMiddleware:
    def __init__(self, app: ASGIApp, sim: SimulatorState) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        authorization = next((value for name, value in scope["headers"] if name == b"authorization"), None)
        entry = self.sim.requests.start(scope["method"], scope["path"], scope["query_string"], authorization)
        scope["sim.seq"] = entry.seq

        async def logged_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                entry.body += message.get("body", b"")
            return message

        async def logged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry.status = message["status"]
            await send(message)

        if request_url_bytes(scope) > self.sim.config.max_url_bytes:
            await _plain_response(logged_send, 414, b"URI Too Long", [(b"content-type", b"text/plain")])
            return
        fault = self.sim.faults.take(scope["method"], scope["path"])
        if fault is None:
            await self.app(scope, logged_receive, logged_send)
            return
        entry.fault = fault.kind
        await self._with_fault(
            fault=fault, scope=scope, raw_receive=receive, receive=logged_receive, send=logged_send
        )

    async def _with_fault(
        self,
        *,
        fault: Fault,
        scope: Scope,
        raw_receive: Receive,
        receive: Receive,
        send: Send,
    ) -> None:
        if not fault.after_processing:
            await asyncio.sleep(fault.seconds)
            if fault.kind == "latency":
                await self.app(scope, receive, send)
            elif fault.kind in ("hang", "drop"):
                await drop_connection(raw_receive)
            else:
                await _fault_response(send, fault)
            return
        held: list[Any] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        await asyncio.sleep(fault.seconds)
        if fault.kind in ("latency", "hang"):
            for message in held:
                await send(message)
        elif fault.kind == "drop":
            await drop_connection(raw_receive)
        else:
            await _fault_response(send, fault)

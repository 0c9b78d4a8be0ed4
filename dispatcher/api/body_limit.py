"""A cap on request bodies, as a pure ASGI middleware: ``413`` in the API's error shape.

A declared ``Content-Length`` above the cap is answered at once, before the app runs and before a
byte of the body is read. A body without one (chunked) is counted as the app reads it and refused
the moment it passes the cap. Either way no more than the cap is ever held in memory or spooled to
disk, and nothing of a refused request is stored (the app never gets the whole body).

The cap depends on the path: CSV uploads are streamed to a temporary file and may be much larger
than any JSON body, which is parsed in memory whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dispatcher.api.errors import error_response
from dispatcher.settings import Settings

#: The ``code`` of the error answer.
TOO_LARGE = "too_large"


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """``body_bytes``: any request body; ``upload_bytes``: a campaign's CSV upload."""

    body_bytes: int
    upload_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> BodyLimits:
        return cls(body_bytes=settings.api_max_body_bytes, upload_bytes=settings.api_max_upload_bytes)


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a streamed body passes the cap.

    An ``HTTPException``, because FastAPI lets only those through its body parsing unchanged (any
    other error there becomes a 400); the handler ``limit_request_bodies`` installs answers it.
    """

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(413, f"the request body is over the limit of {limit_bytes} bytes")
        self.limit_bytes = limit_bytes


def too_large(limit_bytes: int) -> JSONResponse:
    return error_response(413, TOO_LARGE, f"the request body is over the limit of {limit_bytes} bytes")


class BodyLimit:
    """Refuse bodies over ``default_bytes``, or over ``by_path[p]`` for a path ``p`` names.

    A ``by_path`` key ending in ``/`` covers every path under it; any other key is one exact path.
    """

    def __init__(self, app: ASGIApp, *, default_bytes: int, by_path: Mapping[str, int]) -> None:
        self.app = app
        self.default_bytes = default_bytes
        self.by_path = dict(by_path)

    def limit_for(self, path: str) -> int:
        for key, limit in self.by_path.items():
            if path == key or (key.endswith("/") and path.startswith(key)):
                return limit
        return self.default_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await too_large(limit)(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            # Read outside FastAPI's request handling (no handler ran): answer here if still possible.
            if started:
                raise
            await too_large(limit)(scope, receive, send)


def limit_request_bodies(app: FastAPI, *, default_bytes: int, by_path: Mapping[str, int]) -> None:
    """Install ``BodyLimit`` on ``app`` and the handler answering ``BodyTooLarge`` in the error shape."""
    app.add_middleware(BodyLimit, default_bytes=default_bytes, by_path=by_path)
    app.add_exception_handler(BodyTooLarge, _body_too_large)


async def _body_too_large(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BodyTooLarge)
    return too_large(exc.limit_bytes)


def _content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    # The server has checked the framing already; anything unreadable here is left to it.
    return int(value) if value is not None and value.isascii() and value.isdigit() else None

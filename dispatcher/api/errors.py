"""Every error answer of the HTTP API has one JSON shape, ``{"error": {"code", "message", "problems"}}``.

Request-validation errors (FastAPI's and ``InvalidMessage``) are 422 and name each field, value and
rule. The store's failures are 503 with a code that says what is true (``dispatcher.errors``):
``store_full`` (Redis at maxmemory) and ``unavailable`` stored nothing but ``accepted``;
``outcome_unknown`` names the ``unknown`` ids that may be stored. Anything unexpected is logged with
its traceback here and answered without it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import redis
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from kombu.exceptions import OperationalError
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from dispatcher.api.requests import BATCH, CHANNELS, ONE
from dispatcher.errors import (
    IdempotencyConflict,
    InvalidMessage,
    Problem,
    StoreError,
    StoreFull,
    StoreOutcomeUnknown,
)
from dispatcher.models.common import reportable

log = logging.getLogger(__name__)

#: Set on a 202 that replays an earlier request (the same Idempotency-Key or campaign id, the same
#: content): its answer is the first request's, and nothing new was stored (Stripe's header).
REPLAYED_HEADER = "Idempotent-Replayed"
#: Values echoed in a problem are cut to this many characters (a 1 MB text need not come back).
MAX_VALUE_CHARS = 200
#: The answer's code for each store failure, the most specific first.
_STORE_ERROR_CODES: tuple[tuple[type[StoreError], str], ...] = (
    (StoreOutcomeUnknown, "outcome_unknown"),
    (StoreFull, "store_full"),
    (StoreError, "unavailable"),
)
_STORE_FIELDS = ("accepted", "unknown", "campaign")
#: Loc parts pydantic adds for union members: not fields the client wrote.
_UNION_TAGS = frozenset({ONE, BATCH, *CHANNELS})


class ProblemOut(BaseModel):
    field: str = Field(description="Dotted path of the field, e.g. `messages.0.text`.")
    value: Any = Field(description="The value it had (cut to 200 characters; null when absent).")
    rule: str = Field(description="The rule it broke.")


class ErrorDetail(BaseModel):
    code: str = Field(
        description="Machine-readable: invalid_request, unauthorized, not_found, unavailable, store_full, "
        "outcome_unknown, conflict, ..."
    )
    message: str
    problems: list[ProblemOut] = Field(default_factory=list)
    # The store's failures (503), and a conflict (409) met after earlier chunks were stored:
    accepted: list[str] | None = Field(
        default=None,
        description="Ids of messages this failed request stored all the same (they will go out).",
    )
    unknown: list[str] | None = Field(
        default=None,
        description="`outcome_unknown`: ids that may or may not be stored; look each up, or send again "
        "with the same Idempotency-Key.",
    )
    campaign: str | None = Field(default=None, description="The campaign the failed request was creating.")


class ErrorResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": {
                        "code": "invalid_request",
                        "message": "the request breaks the rules listed in problems",
                        "problems": [
                            {
                                "field": "destination",
                                "value": "12",
                                "rule": "must be a valid phone number: is not a valid international number",
                            }
                        ],
                    }
                }
            ]
        }
    )

    error: ErrorDetail


def error_response(
    status: int,
    code: str,
    message: str,
    problems: Sequence[Problem] = (),
    *,
    store_error: StoreError | None = None,
    accepted: Sequence[str] | None = None,
) -> JSONResponse:
    """``accepted``: ids the failed call stored all the same (a store error gives its own)."""
    if store_error is not None:
        accepted = store_error.accepted
    detail = ErrorDetail(
        code=code,
        message=message,
        problems=[ProblemOut(field=p.field, value=_echo(p.value), rule=p.rule) for p in problems],
        accepted=list(accepted) if accepted is not None else None,
        unknown=list(store_error.unknown) if store_error else None,
        campaign=store_error.campaign if store_error else None,
    )
    # The store's fields only where they say something: every other error keeps its three.
    unset = {name for name in _STORE_FIELDS if getattr(detail, name) is None}
    body = ErrorResponse(error=detail).model_dump(mode="json", exclude={"error": unset})
    return JSONResponse(body, status_code=status)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these statuses, all with the error schema."""
    return {status: {"model": ErrorResponse, "description": HTTPStatus(status).phrase} for status in statuses}


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(IdempotencyConflict, _conflict)
    app.add_exception_handler(InvalidMessage, _invalid_message)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(StoreError, _store_error)
    app.add_exception_handler(redis.exceptions.OutOfMemoryError, _store_full)
    app.add_exception_handler(redis.RedisError, _unavailable)
    app.add_exception_handler(OperationalError, _unavailable)
    app.add_exception_handler(Exception, _unexpected)


def problems_of(errors: Sequence[Any]) -> list[Problem]:
    """pydantic/FastAPI error dicts as problems: the field without the union tags and ``body``."""
    problems = []
    for error in errors:
        loc = [part for part in error.get("loc", ()) if part not in _UNION_TAGS]
        if loc and loc[0] == "body":
            loc = loc[1:]
        # A missing field's "input" is its parent object: the field itself had no value. A rule of
        # the whole object (loc empty) is not echoed either: the body may hold phone numbers.
        value = error.get("input")
        whole_object = (
            not loc and isinstance(value, dict) and not str(error.get("type")).startswith("union_tag")
        )
        if error.get("type") == "missing" or whole_object:
            value = None
        field = ".".join(str(part) for part in loc)
        if error.get("type") in {"union_tag_invalid", "union_tag_not_found"}:
            field = ".".join([*map(str, loc), "type"])
            value = value.get("type") if isinstance(value, dict) else value
            rule = "must be one of: " + ", ".join(CHANNELS)
        else:
            rule = str(error.get("msg", "invalid"))
        # Reportable: a lone surrogate in a key or value would break the JSON answer (a 500).
        problems.append(Problem(reportable(field) or "(body)", reportable(value), rule))
    return problems


def json_syntax_problem(error: Mapping[str, Any], body: object) -> Problem | None:
    """A body that is not JSON, named by line and column (FastAPI gives only the offset, as the loc)."""
    loc = error.get("loc", ())
    if (
        error.get("type") != "json_invalid"
        or len(loc) != 2
        or loc[0] != "body"
        or not isinstance(loc[1], int)
    ):
        return None  # not FastAPI's own parse of the body (pydantic's errors name line and column)
    offset = loc[1]
    text = (
        body.decode("utf-8", "replace") if isinstance(body, bytes) else body if isinstance(body, str) else ""
    )
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    reason = str((error.get("ctx") or {}).get("error", "invalid JSON"))
    return Problem("(body)", None, f"is not valid JSON: {reason} at line {line}, column {column}")


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    syntax = [problem for error in exc.errors() if (problem := json_syntax_problem(error, exc.body))]
    problems = syntax or problems_of(exc.errors())
    log.info("%s %s: refused: %s", request.method, request.url.path, _fields(problems))
    return error_response(422, "invalid_request", "the request breaks the rules listed in problems", problems)


async def _conflict(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, IdempotencyConflict)
    log.info(
        "%s %s: refused: %s reused for another request",
        request.method,
        request.url.path,
        _fields(exc.problems),
    )
    stored = "the messages in accepted were stored before it" if exc.accepted else "nothing was stored"
    message = f"{exc}; {stored}"
    return error_response(409, "conflict", message, exc.problems, accepted=exc.accepted or None)


async def _invalid_message(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidMessage)
    log.info("%s %s: refused: %s", request.method, request.url.path, _fields(exc.problems))
    message = "the request breaks the rules listed in problems"
    return error_response(
        422, "invalid_request", f"{exc.summary}: {message}" if exc.summary else message, exc.problems
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400:
        # Starlette's answer to a body it cannot parse (broken multipart): a request error like any other.
        problems = [Problem("(body)", None, str(exc.detail))]
        return error_response(422, "invalid_request", "the request body cannot be read", problems)
    code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    response = error_response(exc.status_code, code, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _store_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StoreError)
    code = next(name for kind, name in _STORE_ERROR_CODES if isinstance(exc, kind))
    log.warning(
        "%s %s: %s (%d accepted, %d unknown)",
        request.method,
        request.url.path,
        code,
        len(exc.accepted),
        len(exc.unknown),
    )
    return error_response(503, code, str(exc), store_error=exc)


async def _store_full(request: Request, exc: Exception) -> JSONResponse:
    log.warning("%s %s: the store is full (Redis maxmemory)", request.method, request.url.path)
    message = "the store is full (Redis maxmemory): nothing changed; retry later"
    return error_response(503, "store_full", message)


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning(
        "%s %s: store or broker unreachable: %s", request.method, request.url.path, type(exc).__name__
    )
    return error_response(503, "unavailable", "the store or the broker is unreachable; retry later")


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The traceback goes to the log only: it may hold numbers, keys or internals.
    log.error("%s %s: unexpected error", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal", "unexpected error; it has been logged")


def _echo(value: Any) -> Any:
    try:
        encoded = jsonable_encoder(value)
    except (TypeError, ValueError):
        encoded = repr(value)
    if isinstance(encoded, str) and len(encoded) > MAX_VALUE_CHARS:
        return encoded[:MAX_VALUE_CHARS] + "..."
    return encoded


def _fields(problems: Sequence[Problem]) -> str:
    # Fields and rules only: values may be phone numbers.
    return "; ".join(f"{p.field}: {p.rule}" for p in problems)

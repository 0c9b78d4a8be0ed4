"""The control API under ``/_sim``: health, request log, messages, callbacks, faults, config, reset."""

from __future__ import annotations

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dispatcher.simulator.faults import Fault
from dispatcher.simulator.responses import json_response, parse_json
from dispatcher.simulator.state import sim_state


def _bad_request(detail: object) -> Response:
    return json_response({"error": detail}, 400)


def _validation_detail(exc: ValidationError) -> list[str]:
    return [f"{'.'.join(str(p) for p in error['loc']) or 'body'}: {error['msg']}" for error in exc.errors()]


async def health(request: Request) -> Response:
    return json_response({"status": "ok"})


async def requests_log(request: Request) -> Response:
    since = request.query_params.get("since")
    if since is not None and not since.isdigit():
        return _bad_request("since must be a non-negative integer (a request seq)")
    entries = sim_state(request).requests.select(
        path=request.query_params.get("path"), since=int(since) if since is not None else None
    )
    return json_response({"requests": entries})


async def messages(request: Request) -> Response:
    provider = request.query_params.get("provider")
    found = sim_state(request).store.all(provider)
    return json_response({"messages": [message.summary() for message in found]})


async def callbacks(request: Request) -> Response:
    return json_response(sim_state(request).callback_log.snapshot())


async def add_fault(request: Request) -> Response:
    parsed, body = parse_json(await request.body())
    if not parsed:
        return _bad_request("body must be a JSON object")
    try:
        fault = Fault.model_validate(body)
    except ValidationError as exc:
        return _bad_request(_validation_detail(exc))
    sim_state(request).faults.add(fault)
    return json_response(fault.model_dump(), 201)


async def list_faults(request: Request) -> Response:
    return json_response({"faults": [fault.model_dump() for fault in sim_state(request).faults.list()]})


async def clear_faults(request: Request) -> Response:
    sim_state(request).faults.clear()
    return json_response({"faults": []})


async def get_config(request: Request) -> Response:
    return json_response(sim_state(request).config.model_dump())


async def set_config(request: Request) -> Response:
    sim = sim_state(request)
    parsed, body = parse_json(await request.body())
    if not parsed or not isinstance(body, dict):
        return _bad_request("body must be a JSON object")
    try:
        sim.config = sim.config.updated(body)
    except ValidationError as exc:
        return _bad_request(_validation_detail(exc))
    return json_response(sim.config.model_dump())


async def reset(request: Request) -> Response:
    sim_state(request).reset()
    return json_response({"status": "reset"})


ROUTES = [
    Route("/_sim/health", health, methods=["GET"]),
    Route("/_sim/requests", requests_log, methods=["GET"]),
    Route("/_sim/messages", messages, methods=["GET"]),
    Route("/_sim/callbacks", callbacks, methods=["GET"]),
    Route("/_sim/faults", add_fault, methods=["POST"]),
    Route("/_sim/faults", list_faults, methods=["GET"]),
    Route("/_sim/faults", clear_faults, methods=["DELETE"]),
    Route("/_sim/config", get_config, methods=["GET"]),
    Route("/_sim/config", set_config, methods=["POST"]),
    Route("/_sim/reset", reset, methods=["POST"]),
]

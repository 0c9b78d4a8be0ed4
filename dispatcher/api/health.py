"""``/healthz`` (Redis and the broker answer) and ``/metrics`` (this process's Prometheus registry)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from dispatcher.api.responses import Health

log = logging.getLogger(__name__)

#: A named check: returns when the dependency answers, raises when it does not.
Check = Callable[[], object]


def health_router(checks: Mapping[str, Check]) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get(
        "/healthz",
        summary="Whether Redis and the broker answer",
        responses={503: {"model": Health, "description": "A dependency does not answer"}},
    )
    async def get_health(response: Response) -> Health:
        results = {name: await run_in_threadpool(_run, name, check) for name, check in checks.items()}
        healthy = all(result == "ok" for result in results.values())
        if not healthy:
            response.status_code = 503
        return Health(status="ok" if healthy else "unavailable", checks=results)

    @router.get(
        "/metrics",
        summary="Prometheus metrics (text exposition format)",
        response_class=Response,
        responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
    )
    async def get_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def _run(name: str, check: Check) -> str:
    try:
        check()
    except Exception as exc:  # any failure means "not healthy"; the answer says which kind
        log.warning("health check %s failed: %s", name, type(exc).__name__)
        return f"unreachable ({type(exc).__name__})"
    return "ok"

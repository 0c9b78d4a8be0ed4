"""The API app: the producer routes (``/v1/messages``, ``/v1/campaigns``, docs/api.md), ``/healthz``,
``/metrics``, and ``POST /v1/callbacks/{provider}/{secret}``: provider delivery callbacks
(docs/pipeline.md §6).

Callbacks answer: 200 with what was done; 401 for a wrong secret; 404 for a provider or account that is not
ours (or callbacks not enabled); 400 for a body the provider's parser refuses; 413 for a huge body;
503 when the store cannot be reached (the provider retries). Never a 500, and nothing changes
unless the answer is 200. Logs name fields and rules, never numbers or the secret.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping, Sequence

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool

from dispatcher.api.auth import require_api_key
from dispatcher.api.body_limit import BodyLimits, limit_request_bodies
from dispatcher.api.campaigns import campaigns_router
from dispatcher.api.errors import install_error_handlers
from dispatcher.api.health import Check, health_router
from dispatcher.api.messages import messages_router
from dispatcher.callbacks.service import CallbackService, InvalidCallback, UnknownRoute, describe_problems
from dispatcher.producer import Dispatcher
from dispatcher.settings import load_settings

log = logging.getLogger(__name__)

#: Where the docs pages' bundled scripts and styles are served.
DOCS_ASSETS_PATH = "/docs-assets"
#: Revicom posts up to 1,000 events at once (~250 kB); anything far larger is not a callback.
MAX_BODY_BYTES = 4 * 1024 * 1024


def create_app(
    service: CallbackService,
    *,
    secret: str | None,
    dispatcher: Dispatcher | None = None,
    api_keys: Sequence[str] = (),
    checks: Mapping[str, Check] | None = None,
    body_limits: BodyLimits | None = None,
) -> FastAPI:
    """The API app; ``secret`` None: callbacks are not enabled (every callback gets 404).

    ``dispatcher``: serve the producer routes, to holders of one of ``api_keys`` (none: nobody).
    ``checks``: what ``/healthz`` asks (name -> a call that raises when the dependency is away).
    ``body_limits``: request body caps (default: from the settings in the environment).
    """
    # Swagger UI (/docs) and ReDoc (/redoc) from assets bundled in the package: no CDN, so the
    # pages work on a machine without internet. Operation ids are the endpoints' names.
    app = FastAPIOffline(
        title="dispatcher",
        version="1",
        summary="Send SMS, voice codes, flash calls, VK and RCS messages; follow and cancel them.",
        generate_unique_id_function=_operation_id,
        static_url=DOCS_ASSETS_PATH,
    )
    install_error_handlers(app)
    limits = body_limits or BodyLimits.from_settings(load_settings())
    limit_request_bodies(
        app,
        default_bytes=limits.body_bytes,
        by_path={"/v1/campaigns/upload": limits.upload_bytes, "/v1/callbacks/": MAX_BODY_BYTES},
    )
    app.include_router(health_router(checks or {}))
    if dispatcher is not None:
        auth = require_api_key(api_keys)
        app.include_router(messages_router(dispatcher, auth))
        app.include_router(campaigns_router(dispatcher, auth))
    expected = secret.encode() if secret is not None else None

    # Out of the schema: providers call it, not API clients, and its path holds a secret.
    @app.post("/v1/callbacks/{provider}/{given_secret}", include_in_schema=False)
    async def callback(
        provider: str, given_secret: str, request: Request, account: str | None = None
    ) -> JSONResponse:
        if expected is None:
            return _answer(404, "callbacks are not enabled")
        # Constant time: the secret is the callbacks' only credential.
        if not hmac.compare_digest(given_secret.encode(), expected):
            log.warning("callback %s: wrong secret", provider)
            return _answer(401, "wrong secret")
        body = await request.body()  # at most MAX_BODY_BYTES: limit_request_bodies refuses more
        content_type = request.headers.get("content-type", "")
        return await run_in_threadpool(_apply, service, provider, body, content_type, account)

    return app


def _operation_id(route: APIRoute) -> str:
    return route.name


def _apply(
    service: CallbackService, provider: str, body: bytes, content_type: str, account: str | None
) -> JSONResponse:
    try:
        outcome = service.handle(provider, body, content_type, account=account)
    except UnknownRoute as exc:
        log.warning("callback %s: %s", provider, exc)
        return _answer(404, str(exc))
    except InvalidCallback as exc:
        problems = describe_problems(exc.problems)
        log.warning("callback %s: refused: %s", provider, "; ".join(problems))
        return JSONResponse({"error": "invalid callback", "problems": problems}, status_code=400)
    except Exception:
        # Redis away or a bug: the provider should retry later, not see a crash.
        log.exception("callback %s: not applied", provider)
        return _answer(503, "not applied; retry later")
    return JSONResponse(
        {
            "reports": outcome.reports,
            "moved": outcome.moved,
            "parked": outcome.parked,
            "fallbacks": outcome.fallbacks,
        }
    )


def _answer(status: int, error: str) -> JSONResponse:
    return JSONResponse({"error": error}, status_code=status)

"""The simulator's ASGI application: provider routes, control routes, the middleware and the ticker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware

from dispatcher.simulator import bsg, control, revicom, smartswitch
from dispatcher.simulator.config import Credentials
from dispatcher.simulator.middleware import SimulatorMiddleware
from dispatcher.simulator.state import SimulatorState


def build_app(credentials: Credentials) -> Starlette:
    sim = SimulatorState(credentials)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        ticker = asyncio.create_task(sim.lifecycle.run())
        try:
            yield
        finally:
            ticker.cancel()
            sim.callbacks.close()

    app = Starlette(
        routes=[*revicom.ROUTES, *smartswitch.ROUTES, *bsg.ROUTES, *control.ROUTES],
        middleware=[Middleware(SimulatorMiddleware, sim=sim)],
        lifespan=lifespan,
    )
    app.state.sim = sim
    return app

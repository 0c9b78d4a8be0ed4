"""Run the simulator with uvicorn (uvloop + httptools: the hot path parses large bodies)."""

from __future__ import annotations

import gc
import logging

import uvicorn

from dispatcher.simulator.app import build_app
from dispatcher.simulator.config import Credentials

GC_GEN0_THRESHOLD = 200_000


def serve(host: str, port: int, credentials: Credentials, *, log_level: str = "warning") -> None:
    # Every accepted message stays in memory as a few long-lived objects; with the default
    # thresholds the cyclic GC rescans them all over and over and halves throughput. The simulator
    # creates no reference cycles on its hot path, so collecting rarely loses nothing.
    gc.set_threshold(GC_GEN0_THRESHOLD, 50, 1000)
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = uvicorn.Config(
        build_app(credentials),
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        log_level=log_level,
        access_log=False,
        # Clients (and the benchmark) keep connections open between requests.
        timeout_keep_alive=30,
    )
    uvicorn.Server(config).run()

"""Run ``dispatcher simulator`` as a child process on a free port, for the demo and the tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

from dispatcher.processes import free_port, wait_for_http

#: How long the simulator may take to answer its health check, and to stop once terminated.
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0


@contextmanager
def running_simulator(
    env: Mapping[str, str],
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    log_path: Path | None = None,
) -> Iterator[str]:
    """Start the simulator with ``env`` on top of this process's environment; yield its base URL.

    It listens on ``host`` and ``port`` (a free one if not given); its output goes to ``log_path``
    if given, else nowhere. On exit it is terminated, and killed if it has not stopped in 10 s.
    """
    port = free_port(host) if port is None else port
    url = f"http://{host}:{port}"
    with ExitStack() as stack:
        output = stack.enter_context(log_path.open("wb")) if log_path is not None else subprocess.DEVNULL
        process = subprocess.Popen(
            [sys.executable, "-m", "dispatcher", "simulator", "--host", host, "--port", str(port)],
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_http(f"{url}/_sim/health", timeout_s=START_TIMEOUT_S)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

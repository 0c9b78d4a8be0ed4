"""RabbitMQ for the tests that run the pipeline with it as the broker: a virtual host of the test
session's own on the machine's RabbitMQ (127.0.0.1:5672, guest/guest), deleted afterwards. Where
RabbitMQ or ``rabbitmqctl`` is missing, the tests skip and say why."""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

HOST, PORT = "127.0.0.1", 5672
USER = PASSWORD = "guest"
_CTL_TIMEOUT_S = 60


def unavailable() -> str | None:
    """Why RabbitMQ cannot be used here, or None when it can."""
    if shutil.which("rabbitmqctl") is None:
        return "rabbitmqctl is not installed (Debian: apt-get install -y rabbitmq-server)"
    try:
        with socket.create_connection((HOST, PORT), timeout=1):
            return None
    except OSError:
        return f"RabbitMQ does not answer on {HOST}:{PORT}"


def rabbitmqctl(*arguments: str) -> None:
    command = ["rabbitmqctl", "--quiet", *arguments]
    subprocess.run(command, check=True, capture_output=True, timeout=_CTL_TIMEOUT_S)


@contextmanager
def private_vhost() -> Iterator[tuple[str, str]]:
    """A new virtual host guest may use: (its name, the broker URL); deleted with all it holds."""
    name = f"dsp-test-{secrets.token_hex(4)}"
    rabbitmqctl("add_vhost", name)
    try:
        rabbitmqctl("set_permissions", "-p", name, USER, ".*", ".*", ".*")
        yield name, f"amqp://{USER}:{PASSWORD}@{HOST}:{PORT}/{name}"
    finally:
        rabbitmqctl("delete_vhost", name)


def close_connections(vhost: str) -> None:
    """Close every client connection to ``vhost`` (a broker restart, as its clients see it)."""
    rabbitmqctl("close_all_connections", "--vhost", vhost, "fault test: connections closed")

"""Private redis-servers for tests that harm Redis: kill and restart it from its append-only file,
stall it, fill it to its maxmemory, cut its clients' connections. Never the shared Redis."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path

import redis

from dispatcher.localredis import redis_server_binary, start_redis_server
from dispatcher.processes import free_port, stop_process

#: A restarted server replays its whole append-only file before it answers; at 100,000 messages
#: (and the history lines of each) that takes a few seconds on a busy 2-core machine.
START_TIMEOUT_S = 60.0
#: Bytes of room left under maxmemory when Redis is "filled": less than one intake chunk needs.
FULL_HEADROOM_BYTES = 16 * 1024


def _major_version() -> int:
    banner = subprocess.run([redis_server_binary(), "--version"], capture_output=True, text=True, check=True)
    return int(banner.stdout.split("v=", 1)[1].split(".", 1)[0])


class RestartableRedis:
    """A redis-server on 127.0.0.1 and a free port, in its own directory, with the append-only file
    fsynced on every write (``appendfsync always``): a SIGKILL then loses nothing a client was told
    was written, so a restart on the same port and directory is the worst crash Redis promises to
    survive -- exactly what the pipeline's "nothing lost" guarantee must hold through."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.restarts = 0
        self.process = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        return start_redis_server(
            self.port,
            self.directory,
            appendonly=True,
            appendfsync="always",
            start_timeout_s=START_TIMEOUT_S,
            # DEBUG SLEEP (a blocked server) needs this from Redis 7 on; 6.x allows it by default.
            options=("--enable-debug-command", "local") if _major_version() >= 7 else (),
        )

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=30)

    def crash_and_restart(self, *, down_s: float) -> float:
        """SIGKILL the server, leave it down ``down_s``, start it again from its files; returns the
        seconds nobody could reach it."""
        started = time.monotonic()
        self.crash()
        time.sleep(down_s)
        self.restart()
        return time.monotonic() - started

    def crash(self) -> None:
        """SIGKILL the server; it stays down until ``restart``."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def restart(self) -> None:
        """Start the server again on its port, from its files."""
        self.process = self._start()
        self.restarts += 1

    def stall(self, seconds: float, *, writes_only: bool = False) -> None:
        """Every client's commands wait ``seconds`` (``CLIENT PAUSE``): a Redis busy with a fork, a
        slow disk or a long script, as its clients see it. ``writes_only``: reads go on, writes
        (scripts too) wait -- a write in flight while its client gives up. Returns at once."""
        with self.client() as client:
            client.execute_command("CLIENT", "PAUSE", int(seconds * 1000), "WRITE" if writes_only else "ALL")

    def block(self, seconds: float) -> None:
        """The server itself does nothing for ``seconds`` (``DEBUG SLEEP``: its main thread sleeps,
        as in a long fork or a slow disk); commands that arrive meanwhile run afterwards, even if
        their client gave up waiting. Returns at once."""

        def sleep() -> None:
            try:
                with redis.Redis.from_url(self.url, socket_timeout=seconds + 10) as client:
                    client.execute_command("DEBUG", "SLEEP", seconds)
            except redis.ConnectionError:
                pass  # its connection was cut, or the server restarted, while it slept: fine

        threading.Thread(target=sleep, daemon=True).start()
        time.sleep(0.05)  # the DEBUG command is in before the caller's next command

    def fill(self, *, headroom_bytes: int = FULL_HEADROOM_BYTES) -> None:
        """Set maxmemory ``headroom_bytes`` above what Redis uses now: once that is used up, every
        write that needs memory is refused (``OOM command not allowed``) until ``unfill``. Deletes
        still work, as at a real limit."""
        with self.client() as client:
            used = int(client.info("memory")["used_memory"])
            client.config_set("maxmemory", used + headroom_bytes)
            client.config_set("maxmemory-policy", "noeviction")

    def unfill(self) -> None:
        with self.client() as client:
            client.config_set("maxmemory", 0)

    def full_for(self, seconds: float) -> None:
        """``fill`` now and ``unfill`` after ``seconds``, in the background (asking again while the
        server is stalled or restarting; a restarted server has no maxmemory anyway)."""
        self.fill()
        timer = threading.Timer(seconds, self._unfill_patiently)
        timer.daemon = True
        timer.start()

    def _unfill_patiently(self, *, for_s: float = 60.0) -> None:
        deadline = time.monotonic() + for_s
        while True:
            try:
                self.unfill()
                return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def drop_connections(self) -> int:
        """Close every other client's connection (a network blip); returns how many were closed."""
        with self.client() as client:
            return int(client.client_kill_filter(_type="normal", skipme=True))

    def stop(self) -> None:
        stop_process(self.process)

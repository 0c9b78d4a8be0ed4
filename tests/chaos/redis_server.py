"""A private redis-server that can be killed and restarted from its append-only file."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from dispatcher.localredis import answers_ping, redis_server_binary
from dispatcher.processes import free_port

#: A restarted server replays its whole append-only file before it answers; at 100,000 messages
#: (and the history lines of each) that takes a few seconds on a busy 2-core machine.
START_TIMEOUT_S = 60.0


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
        command = [
            redis_server_binary(),
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.directory),
            "--save", "",
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--logfile", str(self.directory / "redis.log"),
            # As dispatcher.localredis does for the pipeline's Redis (docs/pipeline.md §2).
            "--hash-max-ziplist-value", "1024",
        ]  # fmt: skip
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT_S
        # answers_ping is False while the server still loads its file (LOADING is a RedisError).
        while not answers_ping(self.url, timeout_s=0.5):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                log = (self.directory / "redis.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"redis-server on port {self.port} did not start:\n{log}")
            time.sleep(0.02)
        return process

    def crash_and_restart(self, *, down_s: float) -> float:
        """SIGKILL the server, leave it down ``down_s``, start it again from its files; returns the
        seconds nobody could reach it."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        time.sleep(down_s)
        self.process = self._start()
        self.restarts += 1
        return time.monotonic() - started

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

"""A private redis-server that can be killed and restarted from its append-only file."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from dispatcher.localredis import start_redis_server
from dispatcher.processes import free_port, stop_process

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
        return start_redis_server(
            self.port,
            self.directory,
            appendonly=True,
            appendfsync="always",
            start_timeout_s=START_TIMEOUT_S,
        )

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
        stop_process(self.process)

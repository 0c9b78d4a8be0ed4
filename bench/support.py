"""Helpers the benchmarks share: the processes this run started and their memory, percentiles,
the result line, and an optional py-spy profile of a process.

Not a benchmark itself; ``python bench/<name>.py`` puts ``bench/`` on ``sys.path``, so every
benchmark imports it as ``support``.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson


def emit(result: dict[str, Any]) -> None:
    """The benchmark's one JSON line on stdout (``make bench`` collects it for ``bench/report.py``)."""
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
    sys.stdout.flush()


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` 0.99 -> p99) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(math.ceil(fraction * len(ordered)), 1)
    return ordered[rank - 1]


def child_processes(parent: int | None = None) -> dict[int, str]:
    """pid -> command line of every process whose parent is ``parent`` (default: this process)."""
    parent = os.getpid() if parent is None else parent
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            # "pid (comm) state ppid ...": comm may hold spaces, so split after its closing bracket.
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == parent:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
                found[int(entry.name)] = command.decode(errors="replace").strip()
        except (OSError, ValueError, IndexError):
            continue
    return found


def role_of(command: str) -> str:
    """A short name for one of the processes the benchmarks start."""
    words = command.split()
    if "simulator" in words:
        return "simulator"
    if "beat" in words:
        return "beat"
    if "worker" in words:
        return "worker-" + words[words.index("-Q") + 1].replace(",", "+") if "-Q" in words else "worker"
    if "api" in words:
        return "api"
    if any(word.endswith("redis-server") for word in words):
        return "redis-server"
    return Path(words[0]).name if words else "?"


def memory_kib(pid: int) -> dict[str, int]:
    """``VmHWM`` (the kernel's resident-set high-water mark) and ``VmRSS`` of a live process, KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            fields[name] = int(value.split()[0])
    return fields


def peak_rss_by_role(parent: int | None = None) -> dict[str, int]:
    """Peak resident memory (MiB, from VmHWM) of each child of ``parent``, by role; several
    children of one role get ``-1``, ``-2`` suffixes."""
    peaks: dict[str, int] = {}
    for pid, command in sorted(child_processes(parent).items()):
        role = role_of(command)
        try:
            peak = memory_kib(pid)["VmHWM"]
        except (OSError, KeyError):
            continue
        name, serial = role, 1
        while name in peaks:
            serial += 1
            name = f"{role}-{serial}"
        peaks[name] = round(peak / 1024)
    return peaks


def pids_by_role(parent: int | None = None) -> dict[str, int]:
    return {role_of(command): pid for pid, command in child_processes(parent).items()}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (its threads included, not its children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_by_role(parent: int | None = None) -> dict[str, float]:
    """CPU seconds so far of this process (``producer``) and of each of its children, by role."""
    used = {"producer": cpu_seconds(os.getpid())}
    for role, pid in pids_by_role(parent).items():
        try:
            used[role] = cpu_seconds(pid)
        except (OSError, IndexError):
            continue
    return used


def cpu_share(before: dict[str, float], after: dict[str, float], elapsed_s: float) -> dict[str, float]:
    """Each role's CPU use between two ``cpu_by_role`` readings, in cores (1.0 = one core busy)."""
    return {
        role: round((after[role] - before[role]) / elapsed_s, 2)
        for role in after
        if role in before and role != "py-spy"
    }


@contextmanager
def profiled(pid: int, output: Path, *, rate_hz: int = 250) -> Iterator[None]:
    """Sample ``pid``'s Python stacks with py-spy (all threads, idle ones left out) while the block
    runs, into ``output`` (py-spy's raw collapsed-stack format). Does nothing without py-spy."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        print("py-spy is not installed: no profile (pip install py-spy)", file=sys.stderr)
        yield
        return
    command = [
        spy, "record", "--pid", str(pid), "--rate", str(rate_hz), "--nonblocking",
        "--format", "raw", "-o", str(output),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _short(frame: str) -> str:
    """``func (path/to/pkg/module.py:12)`` -> ``func (pkg/module.py)``: one entry per function."""
    name, _, where = frame.partition(" (")
    parts = where.rstrip(")").rsplit(":", 1)[0].split("/")
    return f"{name} ({'/'.join(parts[-2:])})" if where else name


#: Frames of the project's own code, for the inclusive ranking.
OWN_CODE = ("dispatcher/", "workers/")


def top_of_profile(raw: Path, *, top: int = 12, include: Sequence[str] = ()) -> dict[str, Any]:
    """Sample shares of the busiest functions in a py-spy raw profile: by own time (any code) and
    by inclusive time (the project's code only: where in the pipeline the time goes).

    ``include``: only stacks containing one of these substrings count (e.g. the intake's module).
    """
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        if include and not any(word in stack for word in include):
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        own[_short(frames[-1])] += count
        for frame in {_short(frame) for frame in frames if any(part in frame for part in OWN_CODE)}:
            inclusive[frame] += count
    if not total:
        return {"samples": 0}

    def shares(counter: Counter[str]) -> list[list[Any]]:
        return [[frame, round(100 * n / total, 1)] for frame, n in counter.most_common(top)]

    return {"samples": total, "self_pct": shares(own), "inclusive_pct": shares(inclusive)}

"""Render ``docs/benchmarks.md`` from the benchmarks' JSON results.

``make bench`` runs every benchmark, writes each one's JSON line to ``<results>/<name>.json`` and
its command line to ``<results>/<name>.cmd``, then runs this. A benchmark whose file is missing is
shown as not run. Text below the ``KEEP_MARKER`` line of the existing document (the hand-written
analysis) is carried over unchanged.

    .venv/bin/python bench/report.py RESULTS_DIR [--doc docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import redis

from dispatcher.localredis import redis_server_binary

KEEP_MARKER = "<!-- Written by hand below this line; bench/report.py keeps it. -->"
#: Before each raw result: tests/integration/test_docs_examples.py runs the docs' examples, not output.
RAW_RESULT_MARKER = "<!-- not run: a benchmark's output -->"

Result = dict[str, Any]


@dataclass(frozen=True)
class Figure:
    """One row: ``value``/``baseline`` read from a benchmark's JSON; ``met`` decides the goal."""

    name: str
    bench: str
    value: Callable[[Result], float]
    unit: str
    baseline: Callable[[Result], float] | None = None
    baseline_label: str = ""
    goal: str = "—"
    met: Callable[[float, float | None], bool] | None = None


def key(name: str) -> Callable[[Result], float]:
    return lambda result: float(result[name])


def size(index: int, field: str, role: str | None = None) -> Callable[[Result], float]:
    """A figure of the scaling benchmark's ``index``-th size (-1: the largest)."""

    def read(result: Result) -> float:
        entry = result["sizes"][index]
        return float(entry[field][role] if role else entry[field])

    return read


def flat(role: str) -> Figure:
    return Figure(
        f"{role}: peak RSS at the largest campaign",
        "scaling",
        size(-1, "peak_rss_mib", role),
        "MiB",
        size(0, "peak_rss_mib", role),
        "same at the smallest",
        "flat: ratio ≤ 1.5",
        lambda value, base: base is not None and value / base <= 1.5,
    )


FIGURES = [
    Figure(
        "Campaign end to end, 100,000 SMS (median of 3)",
        "throughput",
        key("pipeline_msgs_per_s"),
        "msg/s",
        key("direct_msgs_per_s"),
        "direct POSTs to the simulator",
        "≥ 25,000 msg/s and ratio ≥ 0.33",
        lambda value, base: base is not None and value >= 25_000 and value / base >= 1 / 3,
    ),
    Figure(
        "Same, against one Celery task per message",
        "throughput",
        key("pipeline_msgs_per_s"),
        "msg/s",
        key("naive_celery_msgs_per_s"),
        "naive task per message",
    ),
    Figure(
        "Intake: `send_many` (Python API)",
        "intake",
        key("send_many_msgs_per_s"),
        "msg/s",
        key("store_baseline_msgs_per_s"),
        "raw `Store.add_messages`",
        "≥ 50,000 msg/s",
        lambda value, base: value >= 50_000,
    ),
    Figure(
        "Intake: `campaign` from a CSV file",
        "intake",
        key("campaign_msgs_per_s"),
        "msg/s",
        key("store_baseline_msgs_per_s"),
        "raw `Store.add_messages`",
    ),
    Figure(
        "Intake: `POST /v1/messages`, 1,000 per request, 4 clients",
        "api_intake",
        key("http_msgs_per_s"),
        "msg/s",
        key("send_many_msgs_per_s"),
        "`send_many` in process, same run",
    ),
    Figure(
        "HTTP API: `GET /healthz`, 4 clients",
        "api_intake",
        key("healthz_requests_per_s"),
        "req/s",
    ),
    Figure(
        "Voice code send → submitted, p99, during a 200,000-SMS drain",
        "transactional_latency",
        key("loaded_p99_ms"),
        "ms",
        key("idle_p99_ms"),
        "p99 with no campaign",
        "≤ 100 ms",
        lambda value, base: value <= 100,
    ),
    Figure(
        "Voice code send → submitted, p50, during the drain",
        "transactional_latency",
        key("loaded_p50_ms"),
        "ms",
        key("idle_p50_ms"),
        "p50 with no campaign",
    ),
    Figure(
        "Redis bytes per queued message",
        "store_memory",
        key("bytes_per_queued_message"),
        "B",
        key("baseline_set_bytes_per_message"),
        "the wire item as a plain SET",
        "≤ 600 B",
        lambda value, base: value <= 600,
    ),
    Figure(
        "Redis bytes per submitted message",
        "store_memory",
        key("bytes_per_submitted_message"),
        "B",
        key("baseline_set_bytes_per_message"),
        "the wire item as a plain SET",
    ),
    Figure(
        "Redis bytes per finished (delivered) message",
        "store_memory",
        key("bytes_per_finished_message"),
        "B",
        key("baseline_set_bytes_per_message"),
        "the wire item as a plain SET",
    ),
    Figure(
        "Campaign end to end at the largest size (scaling)",
        "scaling",
        size(-1, "msgs_per_s"),
        "msg/s",
        size(0, "msgs_per_s"),
        "same at the smallest",
    ),
    flat("producer"),
    flat("worker-transactional+bulk"),
    flat("beat"),
    Figure(
        "Redis peak per message at the largest size",
        "scaling",
        size(-1, "redis_peak_bytes_per_message"),
        "B",
        size(0, "redis_peak_bytes_per_message"),
        "same at the smallest",
    ),
    Figure(
        "Rate limit held: mean rate at a 200 msg/s limit",
        "ratelimit",
        key("mean_msgs_per_s"),
        "msg/s",
        key("limit_msgs_per_s"),
        "the limit",
        "ratio 0.95 to 1.05",
        lambda value, base: base is not None and 0.95 <= value / base <= 1.05,
    ),
    Figure(
        "Rate limit: most messages in any 1 s window",
        "ratelimit",
        key("max_msgs_in_any_1s_window"),
        "msg",
        lambda result: float(result["limit_msgs_per_s"] + result["burst"]),
        "limit + burst",
        "≤ limit + burst",
        lambda value, base: base is not None and value <= base,
    ),
    Figure(
        "Rate limiter: one decision, p99",
        "ratelimit",
        key("decision_us_p99"),
        "µs",
        key("decision_us_p50"),
        "p50",
    ),
    Figure(
        "Simulator: Revicom messages accepted, 1,000 per request",
        "simulator_throughput",
        key("messages_per_s"),
        "msg/s",
    ),
]


def number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if value < 10 else f"{value:.1f}"


def row(figure: Figure, results: dict[str, Result]) -> str:
    result = results.get(figure.bench)
    if result is None:
        return f"| {figure.name} | not run | | | {figure.goal} | |"
    value = figure.value(result)
    base = figure.baseline(result) if figure.baseline else None
    base_text = f"{number(base)} {figure.unit} ({figure.baseline_label})" if base is not None else "—"
    ratio = f"{value / base:.3g}" if base else "—"
    met = "—" if figure.met is None else ("yes" if figure.met(value, base) else "**no**")
    return (
        f"| {figure.name} | {number(value)} {figure.unit} | {base_text} | {ratio} | {figure.goal} | {met} |"
    )


def redis_versions() -> str:
    binary = subprocess.run([redis_server_binary(), "--version"], capture_output=True, text=True, check=False)
    found = binary.stdout.split()[2].removeprefix("v=") if binary.stdout else "?"
    text = f"redis-server {found} (the private servers)"
    url = os.environ.get("DISPATCHER_REDIS_URL")
    if url:
        try:
            client = redis.Redis.from_url(url, socket_timeout=1)
            text += f"; {client.info('server')['redis_version']} at DISPATCHER_REDIS_URL"
            client.close()
        except redis.RedisError:
            pass
    return text


def machine() -> list[str]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return [
        f"- CPUs: {os.cpu_count()}, {model}",
        f"- Python {platform.python_version()}; {redis_versions()}",
        f"- Rendered {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; load average then {load}",
    ]


def profile_section(results: dict[str, Result]) -> list[str]:
    profile = results.get("throughput", {}).get("profile")
    if not profile:
        return []
    lines = [
        "## Profile of the campaign runs (py-spy, sampled)",
        "",
        "From `throughput.py --profile`: every pipeline run's samples of the worker process (all its",
        "threads) and of the producer's campaign intake (both of its threads). Own time: the function",
        "on top of the stack; inclusive: the project's functions with everything they call.",
        "",
    ]
    for role, title in (("worker", "Worker drain"), ("producer", "Producer intake (`campaign`)")):
        top = profile.get(role, {})
        if not top.get("samples"):
            continue
        lines += [
            f"**{title}** ({top['samples']} samples)",
            "",
            "| own time | % | inclusive | % |",
            "|---|---|---|---|",
        ]
        for (own, own_pct), (inc, inc_pct) in zip(top["self_pct"], top["inclusive_pct"], strict=False):
            lines.append(f"| `{own}` | {own_pct} | `{inc}` | {inc_pct} |")
        lines.append("")
    cpu = results["throughput"].get("pipeline_cpu_cores")
    if cpu:
        shares = ", ".join(f"{role} {value}" for role, value in cpu.items())
        lines += [f"CPU used during the pipeline runs, in cores (2 = the machine): {shares}.", ""]
    return lines


def render(results_dir: Path, kept: str) -> str:
    results = {path.stem: orjson.loads(path.read_bytes()) for path in sorted(results_dir.glob("*.json"))}
    commands = {
        path.stem: path.read_text().strip()
        for path in sorted(results_dir.glob("*.cmd"))
        if path.stem in results
    }
    lines = [
        "# Benchmarks",
        "",
        "Rendered by `make bench` (`bench/report.py`); every figure comes with a baseline measured in the",
        "same run, because the machine is small, shared and noisy (other people's tests run on it at the",
        "same time): compare ratios rather than absolute figures across runs. Each benchmark also runs",
        "alone and prints one JSON line (the commands below).",
        "",
        "## Machine",
        "",
        *machine(),
        "",
        "## Figures",
        "",
        "| figure | value | baseline | ratio | goal | met? |",
        "|---|---|---|---|---|---|",
        *(row(figure, results) for figure in FIGURES),
        "",
        "## Commands",
        "",
        *(f"- `{name}`: `{command}`" for name, command in commands.items()),
        "",
        *profile_section(results),
        "## Raw results",
        "",
        "<details><summary>Each benchmark's JSON line</summary>",
        "",
        *(f"{RAW_RESULT_MARKER}\n```json\n{orjson.dumps(r).decode()}\n```" for r in results.values()),
        "",
        "</details>",
        "",
        KEEP_MARKER,
    ]
    return "\n".join(lines) + kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--doc", type=Path, default=Path(__file__).parent.parent / "docs" / "benchmarks.md")
    args = parser.parse_args()
    existing = args.doc.read_text() if args.doc.exists() else ""
    kept = existing.split(KEEP_MARKER, 1)[1] if KEEP_MARKER in existing else "\n"
    args.doc.write_text(render(args.results, kept))


if __name__ == "__main__":
    main()

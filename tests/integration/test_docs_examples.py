"""Every example in README.md and docs/*.md runs, against a live stack: Redis under a private key
prefix, the simulator, `dispatcher api`, a Celery worker and beat (the children `dispatcher dev`
starts, from ``dispatcher.localstack``).

What a fenced block is, by its language:

- ``python``: a script run by this interpreter in a temporary directory holding ``recipients.csv``,
  with the stack's ``DISPATCHER_*`` environment; it must exit 0.
- ``sh``, ``bash``, ``shell``, ``console`` (its ``$ `` lines): bash with ``set -e -o pipefail`` in the
  same directory and environment, ``$KEY`` the API key, ``http://127.0.0.1:8080`` rewritten to the
  test API and ``curl`` failing on any answer but 2xx; it must exit 0.
- ``json`` after ``<!-- run: POST /v1/ROUTE -->`` (optionally ``-> STATUS``): POSTed there with the
  API key; the answer must be 2xx, or STATUS.
- ``toml``: a providers file; it must load (``dispatcher.accounts.parse_accounts``). Nothing is sent
  to its URLs.

Python and shell examples may reach 127.0.0.1 only. ``dispatcher lanes resume NAME`` finds NAME
paused, as after an account error; a lane an example pauses is resumed after it.

A block that cannot run here carries ``<!-- not run: REASON -->`` on the line before its fence.
Every other block fails ``test_every_example_is_run_or_marked``, so a new example is run or excused.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import requests

from dispatcher.accounts import parse_accounts
from dispatcher.localstack import api_child, delete_keys, pipeline_children, running
from dispatcher.processes import free_port
from dispatcher.store import Store
from tests.conftest import SimCredentials
from tests.integration.worker_fixtures import FAST_PIPELINE_ENV

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

SHELLS = frozenset({"sh", "bash", "shell", "console"})
#: Where the examples say the API is; rewritten to the test's API.
DOCUMENTED_API = "http://127.0.0.1:8080"
#: The files the examples name, put in each example's working directory.
FILES = {"recipients.csv": "phone,name\n+79161234567,Ann\n+79161234568,Bob\n"}
EXAMPLE_TIMEOUT_S = 60

API_KEY = secrets.token_urlsafe(24)
CALLBACK_SECRET = secrets.token_urlsafe(18)

_FENCE = re.compile(r"^(?P<indent> {0,3})```(?P<lang>[\w-]*)\s*$")
_NOT_RUN = re.compile(r"^\s*<!--\s*not run:(?P<reason>.*?)-->\s*$")
_RUN = re.compile(
    r"^\s*<!--\s*run:\s*(?P<method>POST)\s+(?P<route>/\S*)(?:\s*->\s*(?P<status>\d{3}))?\s*-->\s*$"
)
_MARKER = re.compile(r"^\s*<!--\s*(not run|run):")
_URL = re.compile(r"https?://[^\s'\"]+")
#: `dispatcher lanes resume NAME` needs a paused lane; `lanes pause NAME` leaves one paused.
_RESUMES = re.compile(r"dispatcher lanes resume (\S+)")
_PAUSES = re.compile(r"dispatcher lanes pause (\S+)")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    lang: str
    text: str
    #: The line before the fence, when it is a marker.
    marker: str | None

    @property
    def name(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def not_run(self) -> str | None:
        """The reason of a ``not run`` marker (maybe empty); None without one."""
        match = _NOT_RUN.match(self.marker or "")
        return match.group("reason").strip() if match else None

    @property
    def request(self) -> tuple[str, str, int | None] | None:
        """(method, route, expected status) of a ``run:`` marker."""
        match = _RUN.match(self.marker or "")
        if match is None:
            return None
        status = match.group("status")
        return match.group("method"), match.group("route"), int(status) if status else None

    @property
    def runnable(self) -> bool:
        return self.not_run is None and (
            self.lang in SHELLS
            or self.lang in ("python", "toml")
            or (self.lang == "json" and self.request is not None)
        )


def read_blocks(path: Path) -> tuple[list[Block], list[str]]:
    """The fenced blocks of one document, and the problems of its markers (one not before a fence)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    problems: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        opening = _FENCE.match(line)
        if _MARKER.match(line) and not (index + 1 < len(lines) and _FENCE.match(lines[index + 1])):
            problems.append(f"{path.relative_to(ROOT)}:{index + 1}: a marker must be the line before a fence")
        if opening is None:
            index += 1
            continue
        indent = len(opening.group("indent"))
        body: list[str] = []
        index += 1
        while index < len(lines) and lines[index].strip() != "```":
            body.append(lines[index][indent:])
            index += 1
        if index == len(lines):
            problems.append(f"{path.relative_to(ROOT)}: a fence opened and never closed")
        start = index - len(body)  # the opening fence's 1-based line number
        before = lines[start - 2] if start >= 2 else ""
        blocks.append(
            Block(
                path=path,
                line=start,
                lang=opening.group("lang").lower(),
                text="\n".join(body) + "\n",
                marker=before if _MARKER.match(before) else None,
            )
        )
        index += 1
    return blocks, problems


def all_blocks() -> tuple[list[Block], list[str]]:
    blocks: list[Block] = []
    problems: list[str] = []
    for path in DOCUMENTS:
        found, wrong = read_blocks(path)
        blocks += found
        problems += wrong
    return blocks, problems


BLOCKS, MARKER_PROBLEMS = all_blocks()
RUNNABLE = [block for block in BLOCKS if block.runnable]


def test_every_example_is_run_or_marked() -> None:
    problems = list(MARKER_PROBLEMS)
    for block in BLOCKS:
        reason = block.not_run
        if reason == "":
            problems.append(f"{block.name}: `not run` needs a reason")
        elif reason is None and not block.runnable:
            what = "json without `<!-- run: POST /ROUTE -->`" if block.lang == "json" else f"```{block.lang}"
            problems.append(f"{block.name}: {what} cannot be run here: make it runnable or mark it not run")
        if block.request is not None and block.lang != "json":
            problems.append(f"{block.name}: a `run:` marker is for a JSON request body")
    assert not problems, "\n".join(problems)
    # The parser found the examples the pages are known to hold (an empty list would pass vacuously).
    kinds = {(block.path.name, block.lang) for block in RUNNABLE}
    assert {("README.md", "python"), ("README.md", "sh"), ("api.md", "sh"), ("api.md", "json")} <= kinds


@dataclass(frozen=True)
class Stack:
    env: dict[str, str]
    api_url: str
    store: Store
    secrets: tuple[str, ...]

    def redacted(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


@pytest.fixture(scope="module")
def stack(
    redis_url: str,
    sim_credentials: SimCredentials,
    simulator_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    prefix = f"t{secrets.token_hex(4)}"
    port = free_port()
    api_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        **sim_credentials.environment(),
        **FAST_PIPELINE_ENV,
        "DISPATCHER_REDIS_URL": redis_url,
        "DISPATCHER_KEY_PREFIX": prefix,
        "DISPATCHER_SIMULATOR_URL": simulator_url,
        "DISPATCHER_API_KEYS": API_KEY,
        "DISPATCHER_CALLBACK_BASE_URL": api_url,
        "DISPATCHER_CALLBACK_SECRET": CALLBACK_SECRET,
        # `dispatcher` and `celery` as the examples call them: this virtualenv's.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    log_dir = tmp_path_factory.mktemp("docs-stack")
    client = redis.Redis.from_url(redis_url)
    try:
        with running([*pipeline_children(env, log_dir), api_child(env, port)], log_dir):
            yield Stack(
                env=env,
                api_url=api_url,
                store=Store(client, prefix=prefix),
                secrets=(API_KEY, CALLBACK_SECRET, *sim_credentials.environment().values()),
            )
    finally:
        delete_keys(client, prefix)
        client.close()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    for name, content in FILES.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    return tmp_path


def local_only(block: Block, text: str, api_url: str) -> str:
    elsewhere = [url for url in _URL.findall(text) if not url.startswith(api_url)]
    assert not elsewhere, f"{block.name}: examples talk to the test's API on 127.0.0.1 only, not {elsewhere}"
    return text


def shell_script(block: Block, api_url: str) -> str:
    lines = block.text.splitlines()
    if block.lang == "console":
        lines = [line[2:] for line in lines if line.startswith("$ ")]
    script = local_only(block, "\n".join(lines).replace(DOCUMENTED_API, api_url), api_url)
    # A 4xx or 5xx answer is a failed example, not output to read past.
    return 'set -e -o pipefail\ncurl() { command curl --fail-with-body "$@"; }\n' + script + "\n"


def run_process(block: Block, stack: Stack, command: list[str], cwd: Path) -> None:
    """Run ``command``; its whole process group is killed afterwards, so an example that started
    something in the background (or hung) leaves nothing running."""
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env={**stack.env, "KEY": API_KEY},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    outcome = "exited"
    try:
        stdout, stderr = process.communicate(timeout=EXAMPLE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        outcome = f"was still running after {EXAMPLE_TIMEOUT_S} s and was killed; it"
        _kill_group(process)
        stdout, stderr = process.communicate()
    finally:
        _kill_group(process)
    assert process.returncode == 0, stack.redacted(
        f"{block.name} {outcome} with {process.returncode}\n--- stdout\n{stdout[-3000:]}"
        f"\n--- stderr\n{stderr[-3000:]}"
    )


def _kill_group(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@pytest.mark.parametrize("block", RUNNABLE, ids=[block.name for block in RUNNABLE])
def test_example_runs(block: Block, stack: Stack, workdir: Path, simulator_url: str) -> None:
    if block.lang == "python":
        script = workdir / "example.py"
        script.write_text(local_only(block, block.text, stack.api_url), encoding="utf-8")
        run_process(block, stack, [sys.executable, str(script)], workdir)
    elif block.lang in SHELLS:
        for lane in _RESUMES.findall(block.text):
            stack.store.pause_lane(lane, "account error (a test's stand-in)")
        try:
            run_process(block, stack, ["bash", "-c", shell_script(block, stack.api_url)], workdir)
        finally:
            for lane in _PAUSES.findall(block.text):
                stack.store.resume_lane(lane)
    elif block.lang == "json":
        assert block.request is not None
        method, route, status = block.request
        answer = requests.request(
            method,
            stack.api_url + route,
            data=block.text.encode(),
            headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
            timeout=30,
        )
        expected = f"HTTP {status}" if status is not None else "2xx"
        ok = answer.status_code == status if status is not None else 200 <= answer.status_code < 300
        assert ok, stack.redacted(
            f"{block.name}: {method} {route} answered {answer.status_code}, not {expected}: {answer.text}"
        )
    else:
        accounts = parse_accounts(tomllib.loads(block.text), simulator_url=simulator_url)
        assert accounts, f"{block.name}: a providers file with no account"

"""The running ``dispatcher dev`` stack, for a second terminal.

``dispatcher dev`` writes the settings its processes run with (Redis URL, key prefix, API key,
callback base URL and secret, simulator URL, the simulator's throw-away credentials) to a file only
its user can read, with its own pid, and removes it when it stops. Any ``dispatcher`` command run
with no ``DISPATCHER_*`` variable set picks those settings up by itself (``adopt``), so a message
sent from another terminal carries the same callback URL and becomes ``delivered``;
``eval "$(dispatcher dev env)"`` puts them into a shell for anything else (curl, Python).

The file lives in ``$XDG_STATE_HOME/dispatcher/dev.env`` (default ``~/.local/state``): per user, not
per directory, because one machine runs one dev stack on its fixed ports.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path

from dispatcher.settings import ENV_PREFIX

FILE_NAME = "dev.env"
_PID_LINE = "# dispatcher dev pid "


def state_file(environ: Mapping[str, str] | None = None) -> Path:
    """Where the running stack's settings are written."""
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_STATE_HOME") or str(Path(environ.get("HOME") or Path.home()) / ".local" / "state")
    return Path(base) / "dispatcher" / FILE_NAME


@dataclass(frozen=True, slots=True)
class DevStack:
    """A dev stack that is running: its process and its settings."""

    pid: int
    variables: Mapping[str, str]
    path: Path


def write(path: Path, pid: int, variables: Mapping[str, str]) -> None:
    """Write the stack's settings (readable by this user only; replaced in one step)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        f"{_PID_LINE}{pid}",
        *(f"export {name}={shlex.quote(value)}" for name, value in sorted(variables.items())),
    ]
    partial = path.with_suffix(".tmp")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    partial.replace(path)


def read(path: Path) -> DevStack | None:
    """The stack the file describes, if its process still runs (a file left by a stack that was
    killed is not a stack)."""
    try:
        text = path.read_text()
    except OSError:
        return None
    pid = 0
    variables: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith(_PID_LINE):
            pid = int(line.removeprefix(_PID_LINE).strip() or 0)
        elif line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            variables[name] = "".join(shlex.split(value))
    if pid <= 0 or not _alive(pid):
        return None
    return DevStack(pid, variables, path)


def remove(path: Path, pid: int) -> None:
    """Remove the file if it is still ``pid``'s (a later stack's is left alone)."""
    found = read(path)
    if found is None or found.pid == pid:
        path.unlink(missing_ok=True)


def adopt(environ: MutableMapping[str, str]) -> DevStack | None:
    """Put the running stack's settings into ``environ`` when none of its own says otherwise (no
    ``DISPATCHER_*`` variable set); the stack adopted, or None."""
    if any(name.startswith(ENV_PREFIX) for name in environ):
        return None
    stack = read(state_file(environ))
    if stack is not None:
        environ.update(stack.variables)
    return stack


def shell_exports(stack: DevStack) -> str:
    """``export NAME='value'`` lines for ``eval`` in a POSIX shell."""
    return "\n".join(f"export {name}={shlex.quote(value)}" for name, value in sorted(stack.variables.items()))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process under that pid: treat as running, never adopt blindly
    return True

"""The record of every provider request, in arrival order, for tests to inspect.

Bodies are kept as received (bytes) and parsed only when someone reads the log, so logging costs
the hot path nothing but a reference. Secrets in the query string are masked at read time.
"""

from __future__ import annotations

import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

import orjson

#: Query parameters and top-level JSON fields whose values never leave the simulator.
SECRET_PARAMETERS = frozenset({"_password"})
SECRET_BODY_FIELDS = frozenset({"api_key"})
MASK = "***"


@dataclass(slots=True)
class LoggedRequest:
    seq: int
    time: float
    method: str
    path: str
    query_string: bytes
    #: The Authorization scheme only ("Basic", "Bearer"): enough to check, never the credential.
    auth_scheme: str | None = None
    body: bytes = b""
    status: int | None = None
    fault: str | None = None

    def to_json(self) -> dict[str, Any]:
        query = [
            [key, MASK if key in SECRET_PARAMETERS else value]
            for key, value in urllib.parse.parse_qsl(
                self.query_string.decode("latin-1"), keep_blank_values=True
            )
        ]
        return {
            "seq": self.seq,
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "query": query,
            "auth_scheme": self.auth_scheme,
            "body": _parsed_body(self.body),
            "status": self.status,
            "fault": self.fault,
        }


def _parsed_body(body: bytes) -> Any:
    """JSON when the body parses as JSON (whatever its Content-Type said), else text; secrets masked."""
    if not body:
        return None
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body.decode("utf-8", errors="replace")
    if isinstance(parsed, dict) and SECRET_BODY_FIELDS & parsed.keys():
        return {key: MASK if key in SECRET_BODY_FIELDS else value for key, value in parsed.items()}
    return parsed


class RequestLog:
    def __init__(self) -> None:
        self._entries: list[LoggedRequest] = []
        self._next_seq = 1

    def start(
        self, method: str, path: str, query_string: bytes, authorization: bytes | None = None
    ) -> LoggedRequest:
        scheme = authorization.split(b" ", 1)[0].decode("latin-1") if authorization else None
        entry = LoggedRequest(self._next_seq, time.time(), method, path, query_string, scheme)
        self._next_seq += 1
        self._entries.append(entry)
        return entry

    def select(self, *, path: str | None = None, since: int | None = None) -> list[dict[str, Any]]:
        """Entries with seq > ``since`` and, if given, exactly this path."""
        entries = self._entries
        if since is not None and entries:
            # seqs are consecutive within the log, so `since` maps straight to an index.
            entries = entries[max(0, since - entries[0].seq + 1) :]
        return [entry.to_json() for entry in entries if path is None or entry.path == path]

    def clear(self) -> None:
        # Sequence numbers keep growing, so a test's `since` from before a reset stays meaningful.
        self._entries.clear()

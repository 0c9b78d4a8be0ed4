"""Callbacks out: who hears about a status change, in which provider's format, and the POSTs themselves.

Bodies are built on the event loop (cheap, in tick order) and POSTed from a small thread pool, so a
slow or dead receiver never holds up request handling. Failures are logged and counted, never raised.
Every attempt is recorded for ``GET /_sim/callbacks``.
"""

from __future__ import annotations

import base64
import ipaddress
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import orjson

from dispatcher.simulator.config import SimConfig
from dispatcher.simulator.store import SimMessage

logger = logging.getLogger(__name__)

#: Revicom events and the statuses that trigger each (callback page).
REVICOM_EVENT_OF_STATUS = {
    "sent": "sent",
    "delivered": "delivered",
    "undelivered": "delivered",
    "unsent": "delivered",
    "read": "read",
    "unread": "read",
}
#: Events per POST: Revicom batches events for one URL into one array.
REVICOM_MAX_EVENTS_PER_POST = 1000
#: BSG status callback error fields; only "No errors" is documented, the rest are stand-ins.
BSG_ERRORS = {
    "delivered": (0, "No errors"),
    "read": (0, "No errors"),
    "sent": (0, "No errors"),
    "undelivered": (1, "Undelivered"),
    "expired": (2, "Expired"),
    "failed": (3, "Failed"),
    "unknown": (4, "Unknown"),
    "not_service_user": (5, "Not a service user"),
}
BSG_PRICE = ("0.10", "EUR")
SMARTSWITCH_DLR_STATES = frozenset({"delivered", "expired", "undeliverable", "rejected", "unknown"})
POST_TIMEOUT_S = 5.0
_SENDER_THREADS = 4


def utc_iso(epoch_s: float) -> str:
    """``2020-10-16T18:51:13Z``: Revicom's time format."""
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_plain(epoch_s: float | None) -> str | None:
    """``2025-04-14 10:56:09``: BSG's time format (UTC)."""
    if epoch_s is None:
        return None
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%d %H:%M:%S")


def revicom_event(message: SimMessage, event: str, status: str, at: float) -> dict[str, Any]:
    body: dict[str, Any] = {
        "message_uuid": message.id,
        "channel_type": message.channel,
        "callback_event": event,
        "status": status,
        "status_time": utc_iso(at),
    }
    if message.error_code is not None and status in ("undelivered", "unsent"):
        body["error_code"] = message.error_code
    return body


def bsg_status_body(message: SimMessage, status: str, at: float) -> dict[str, Any]:
    error, description = BSG_ERRORS.get(status, (0, "No errors"))
    return {
        "error": error,
        "errorDescription": description,
        "id": message.id,
        "msisdn": message.destination,
        "reference": message.reference_id,
        "time_in": utc_plain(message.created_at),
        "time_sent": utc_plain(message.sent_at),
        "time_dr": utc_plain(at) if message.final else None,
        "status": status,
        "price": BSG_PRICE[0],
        "currency": BSG_PRICE[1],
    }


def _split_credentials(url: str) -> tuple[str, dict[str, str]]:
    """Remove ``login:password@`` from a URL and turn it into a Basic Authorization header."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None:
        return url, {}
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    userinfo = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
    header = "Basic " + base64.b64encode(userinfo.encode()).decode()
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc)), {"Authorization": header}


def is_loopback_url(url: str) -> bool:
    """True when the URL's host is a loopback address (checked without any DNS lookup)."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def masked_url(url: str) -> str:
    """The URL with any embedded password replaced, for the record and logs."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


class CallbackLog:
    """Every callback attempt, in order; written from sender threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []
        self._generation = 0
        self.delivered = 0
        self.failed = 0

    @property
    def generation(self) -> int:
        return self._generation

    def record(self, generation: int, entry: dict[str, Any]) -> None:
        with self._lock:
            if generation != self._generation:
                return  # sent before a reset: not part of the current test's story
            entry["seq"] = len(self._entries) + 1
            self._entries.append(entry)
            if entry["error"] is None and 200 <= (entry["status"] or 0) < 300:
                self.delivered += 1
            else:
                self.failed += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"callbacks": list(self._entries), "delivered": self.delivered, "failed": self.failed}

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()
            self.delivered = self.failed = 0


class CallbackSender:
    """Collects the callbacks a tick produces, then POSTs them in the background."""

    def __init__(self, config: Callable[[], SimConfig], log: CallbackLog) -> None:
        self._config = config
        self._log = log
        self._pool = ThreadPoolExecutor(max_workers=_SENDER_THREADS, thread_name_prefix="sim-callback")
        self._revicom_batches: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._single: list[tuple[str, str, bytes, str]] = []

    def status_changed(self, message: SimMessage, status: str, at: float) -> None:
        if message.provider == "revicom":
            event = REVICOM_EVENT_OF_STATUS.get(status)
            if message.callback_url and event in message.callback_events:
                self._revicom_batches[message.callback_url].append(revicom_event(message, event, status, at))
        elif message.provider == "bsg":
            if message.callback_url:
                body = orjson.dumps(bsg_status_body(message, status, at))
                self._single.append(("bsg", message.callback_url, body, "application/json"))
        elif status in SMARTSWITCH_DLR_STATES and message.payload.get("require_dlr") == "1":
            self._queue_smartswitch_dlr(message, status)

    def _queue_smartswitch_dlr(self, message: SimMessage, state: str) -> None:
        config = self._config()
        if config.smartswitch_dlr_url is None:
            return
        fields = {"message_id": message.id, "message_state": state}
        if config.smartswitch_dlr_format == "json":
            body, content_type = orjson.dumps(fields), "application/json"
        else:
            body, content_type = urllib.parse.urlencode(fields).encode(), "application/x-www-form-urlencoded"
        self._single.append(("smartswitch", config.smartswitch_dlr_url, body, content_type))

    def flush(self) -> None:
        generation = self._log.generation
        for url, events in self._revicom_batches.items():
            for start in range(0, len(events), REVICOM_MAX_EVENTS_PER_POST):
                body = orjson.dumps(events[start : start + REVICOM_MAX_EVENTS_PER_POST])
                self._pool.submit(self._post, generation, "revicom", url, body, "application/json")
        for provider, url, body, content_type in self._single:
            self._pool.submit(self._post, generation, provider, url, body, content_type)
        self._revicom_batches.clear()
        self._single.clear()

    def _post(self, generation: int, provider: str, url: str, body: bytes, content_type: str) -> None:
        status: int | None = None
        error: str | None = None
        if self._config().callback_loopback_only and not is_loopback_url(url):
            error = "not sent: callback_loopback_only allows loopback receivers only"
        else:
            status, error = self._deliver(url, body, content_type)
        if error is not None or status is None or not 200 <= status < 300:
            logger.warning("callback to %s failed: %s", masked_url(url), error or f"HTTP {status}")
        parsed: Any = orjson.loads(body) if content_type == "application/json" else body.decode()
        self._log.record(
            generation,
            {
                "time": time.time(),
                "provider": provider,
                "url": masked_url(url),
                "content_type": content_type,
                "body": parsed,
                "status": status,
                "error": error,
            },
        )

    @staticmethod
    def _deliver(url: str, body: bytes, content_type: str) -> tuple[int | None, str | None]:
        """POST once; (HTTP status, None) when the receiver answered, (None, error) when it did not."""
        target, headers = _split_credentials(url)
        request = urllib.request.Request(  # noqa: S310 - the URL was validated as http(s)
            target, data=body, method="POST", headers={"Content-Type": content_type, **headers}
        )
        try:
            with urllib.request.urlopen(request, timeout=POST_TIMEOUT_S) as response:  # noqa: S310
                return response.status, None
        except urllib.error.HTTPError as exc:
            return exc.code, None
        except (OSError, ValueError) as exc:
            return None, f"{type(exc).__name__}: {exc}"

    def discard_pending(self) -> None:
        self._revicom_batches.clear()
        self._single.clear()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

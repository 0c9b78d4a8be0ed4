"""JSON log lines for log collectors: one object per record, with the message, batch and campaign
ids a record carries (``log.info(..., extra={"message_id": ...})``), phone numbers masked and
credentials redacted.

Masking happens here, at the last moment, so a careless ``log.info("to %s", msisdn)`` anywhere in
the code still never writes a full number. ``install_json_logging`` puts the formatter on the root
logger; processes call it when ``DISPATCHER_LOG_FORMAT=json``.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

import orjson

from dispatcher.phone import mask_msisdn

#: Extras copied into the JSON object when a record has them (ids are never masked: they are the
#: handles an operator searches by).
CONTEXT_FIELDS = ("message_id", "batch_id", "campaign_id", "lane", "account", "provider", "task_id")

#: A run of 8-15 digits, optionally after ``+``, not inside a longer word or id: an E.164 number
#: as it appears in text. Some non-numbers (long counters) get masked too; that is the safe error.
_NUMBER = re.compile(r"(?<![\w.-])\+?\d{8,15}(?![\w.-])")

#: ``Authorization``-style values and ``key=value`` pairs whose key names a secret.
_AUTH_VALUE = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_SECRET_PAIR = re.compile(
    r"\b([\w-]*(?:password|passwd|secret|token|api_key|apikey)[\w-]*)(\s*[=:]\s*)([^\s&,;\"']+)",
    re.IGNORECASE,
)
_SECRET_NAME = re.compile(r"password|passwd|secret|token|api_key|apikey|authorization", re.IGNORECASE)

REDACTED = "[redacted]"

#: LogRecord's own attributes: everything else on a record came from ``extra=``.
_RECORD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def scrub(text: str) -> str:
    """``text`` with phone numbers masked and credentials redacted."""
    text = _AUTH_VALUE.sub(lambda match: f"{match.group(1)} {REDACTED}", text)
    text = _SECRET_PAIR.sub(lambda match: f"{match.group(1)}{match.group(2)}{REDACTED}", text)
    return _NUMBER.sub(lambda match: mask_msisdn(match.group(0)), text)


def _extra_value(name: str, value: Any) -> Any:
    if _SECRET_NAME.search(name):
        return REDACTED
    if name in CONTEXT_FIELDS:
        return str(value)
    if isinstance(value, bool | int | float) or value is None:
        return value
    return scrub(str(value))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``msg``, the record's extras, ``exc``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        for name, value in record.__dict__.items():
            if name not in _RECORD_ATTRIBUTES and not name.startswith("_"):
                entry[name] = _extra_value(name, value)
        if record.exc_info:
            entry["exc"] = scrub(self.formatException(record.exc_info))
        return orjson.dumps(entry, default=str).decode()


def install_json_logging(level: int | str = logging.INFO) -> None:
    """Make every log record of this process a JSON line on stderr (replacing root's handlers)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)

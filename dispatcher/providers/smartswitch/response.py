"""Reading a Smartswitch send response: ``data`` (one object per recipient) or ``errors``, never both.

``data`` is an object when the request had one recipient and an array when it had several. Items are
matched to our messages by ``meta.request_id`` when every message carried one and every item echoes
one, otherwise by position; either way the echoed ``destination_number`` must be the message's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dispatcher.errors import AccountError, BadCredentials, BatchRejected, ProviderError, UnexpectedResponse
from dispatcher.models.smartswitch import SmartswitchSms
from dispatcher.providers.outcomes import Outcome, Rejected, Submitted

PROVIDER = "smartswitch"

#: ``errors[].code`` values that mean the account cannot send. Every other code refuses the request.
ACCOUNT_ERROR_CODES: Mapping[str, type[AccountError]] = {"authentication": BadCredentials}

#: ``attributes.status``: the page spells "ok" in Cyrillic ("ок"), the examples in Latin; both count.
SUBMITTED_STATUSES = frozenset({"ok", "\u043e\u043a"})
REJECTED_STATUS = "error"


@dataclass(frozen=True, slots=True)
class ResponseItem:
    """One ``data`` item, read and checked."""

    request_id: str | None
    destination_number: str
    outcome: Outcome


def interpret(status: int, document: Any, messages: Sequence[SmartswitchSms]) -> list[Outcome]:
    """One outcome per message, in the order of ``messages``, or the error the response stands for."""
    if not isinstance(document, dict) or ("data" in document) == ("errors" in document):
        raise _unexpected(f"HTTP {status}: the body must be an object with exactly one of data and errors")
    if "errors" in document:
        raise request_error(document["errors"])
    if not 200 <= status < 300:
        raise _unexpected(f"HTTP {status} with data instead of errors")
    raw_items = document["data"]
    items_list = raw_items if isinstance(raw_items, list) else [raw_items]
    if len(items_list) != len(messages):
        raise _unexpected(f"{len(items_list)} data items for {len(messages)} recipients")
    items = [read_item(index, raw) for index, raw in enumerate(items_list)]
    paired = pair_items(messages, items)
    return [item.outcome for item in paired]


def request_error(errors: Any) -> ProviderError:
    """The exception for a response's ``errors`` (the table is ``ACCOUNT_ERROR_CODES``)."""
    if not isinstance(errors, list) or not errors or not all(_is_error(error) for error in errors):
        raise _unexpected("errors must be a non-empty array of objects with a string code")
    for error in errors:
        account_error = ACCOUNT_ERROR_CODES.get(error["code"])
        if account_error is not None:
            return account_error(_describe(error), provider=PROVIDER, code=error["code"])
    first = errors[0]
    reason = "; ".join(str(error.get("detail") or error.get("title") or error["code"]) for error in errors)
    return BatchRejected(_describe(first), provider=PROVIDER, code=first["code"], reason=reason)


def read_item(index: int, raw: Any) -> ResponseItem:
    """Check one ``data`` item's documented shape and turn it into an outcome."""
    where = f"data[{index}]"
    if not isinstance(raw, dict) or raw.get("type") != "message":
        raise _unexpected(f"{where} must be an object of type 'message'")
    attributes = raw.get("attributes")
    if not isinstance(attributes, dict):
        raise _unexpected(f"{where}.attributes must be an object")
    destination = attributes.get("destination_number")
    if not isinstance(destination, str | int) or isinstance(destination, bool):
        raise _unexpected(f"{where}.attributes.destination_number is missing")
    meta = raw.get("meta")
    request_id = meta.get("request_id") if isinstance(meta, dict) else None
    if request_id is not None and not isinstance(request_id, str):
        raise _unexpected(f"{where}.meta.request_id must be a string")
    return ResponseItem(
        request_id=request_id,
        destination_number=str(destination).lstrip("+"),
        outcome=_item_outcome(where, raw, attributes),
    )


def _item_outcome(where: str, raw: dict[str, Any], attributes: dict[str, Any]) -> Outcome:
    status = attributes.get("status")
    if status == REJECTED_STATUS:
        return Rejected(
            code=REJECTED_STATUS, reason="Smartswitch did not send it (status error, not charged)"
        )
    if status not in SUBMITTED_STATUSES:
        raise _unexpected(f"{where}.attributes.status={status!r} is neither ok nor error")
    provider_id = raw.get("id")
    if not isinstance(provider_id, str | int) or isinstance(provider_id, bool) or str(provider_id) == "":
        raise _unexpected(f"{where}.id is missing for a sent message")
    segments = attributes.get("segments")
    if not isinstance(segments, int) or isinstance(segments, bool) or segments < 0:
        raise _unexpected(f"{where}.attributes.segments={segments!r} is not a count")
    return Submitted(provider_message_id=str(provider_id), segments=segments)


def pair_items(messages: Sequence[SmartswitchSms], items: Sequence[ResponseItem]) -> list[ResponseItem]:
    """``items`` reordered to line up with ``messages``; any doubt is an ``UnexpectedResponse``."""
    ours = [message.request_id for message in messages]
    echoed = [item.request_id for item in items]
    if all(ours) and all(echoed):
        by_id = {item.request_id: item for item in items}
        if len(by_id) != len(items) or set(by_id) != set(ours):
            raise _unexpected("the echoed request_ids are not the ones we sent")
        paired = [by_id[request_id] for request_id in ours]
    elif all(ours) and any(echoed):
        raise _unexpected("only some items echo a request_id")
    else:
        paired = list(items)
    for index, (message, item) in enumerate(zip(messages, paired, strict=True)):
        if item.destination_number != message.destination_number:
            raise _unexpected(f"item for message #{index} is for another destination_number")
    return paired


def _is_error(error: Any) -> bool:
    return isinstance(error, dict) and isinstance(error.get("code"), str)


def _describe(error: dict[str, Any]) -> str:
    title = error.get("title") or "error"
    detail = error.get("detail") or ""
    return f"{error['code']}: {title}" + (f" ({detail})" if detail else "")


def _unexpected(message: str) -> UnexpectedResponse:
    return UnexpectedResponse(message, provider=PROVIDER)

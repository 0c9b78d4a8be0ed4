"""Campaign input: a message template and recipients streamed from an iterable or a CSV file.

A template is a channel model and its fields, every field but the recipient's number; string
values may hold ``{name}`` placeholders (``str.format`` syntax) filled from each recipient's
variables. Recipients are numbers, dicts (``phone`` plus variables) or the rows of a CSV file with
a ``phone`` column; they are read lazily, so a campaign of any size takes constant memory.
"""

from __future__ import annotations

import csv
import string
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

from dispatcher.errors import InvalidMessage, Problem
from dispatcher.models.bsg import BsgRcs
from dispatcher.models.common import build
from dispatcher.models.smartswitch import SmartswitchSms
from dispatcher.producer.routing import Message, provider_of_model

PHONE_COLUMN = "phone"

Recipient: TypeAlias = str | Mapping[str, Any]
Recipients: TypeAlias = Iterable[Recipient] | str | Path


@dataclass(frozen=True)
class MessageTemplate:
    """``MessageTemplate(RevicomSms, {"sender_name": "SHOP", "text": "Hi {name}, 20% off today"})``."""

    model: type[Message]
    fields: Mapping[str, Any]
    #: The placeholders used anywhere in the fields (filled in at construction).
    placeholders: frozenset[str] = field(init=False)
    #: The top-level fields that hold a placeholder: the only ones rendered per recipient.
    _templated_keys: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        provider_of_model(self.model)
        names: set[str] = set()
        try:
            _collect_placeholders(self.fields, names)
        except ValueError as exc:
            raise InvalidMessage(
                [Problem("template", dict(self.fields), f"bad placeholder syntax: {exc}")]
            ) from None
        object.__setattr__(self, "placeholders", frozenset(names))
        templated = [key for key, value in self.fields.items() if _has_placeholders(value)]
        object.__setattr__(self, "_templated_keys", tuple(templated))

    def render(self, recipient: Recipient) -> Message:
        """The message for one recipient; raises InvalidMessage naming what is wrong."""
        variables: Mapping[str, Any]
        number: object
        if isinstance(recipient, str):
            number, variables = recipient, {}
        else:
            number, variables = recipient.get(PHONE_COLUMN), recipient
            if not isinstance(number, str):
                raise InvalidMessage(
                    [Problem(PHONE_COLUMN, number, "every recipient needs a phone number (text)")]
                )
        missing = self.placeholders - variables.keys()
        if missing:
            raise InvalidMessage(
                [
                    Problem(
                        name, None, "the template uses this placeholder; the recipient has no value for it"
                    )
                    for name in sorted(missing)
                ]
            )
        fields = dict(self.fields)
        for key in self._templated_keys:
            fields[key] = _render(fields[key], variables)
        return build(self.model, _with_number(self.model, fields, number))


def _with_number(model: type[Message], fields: dict[str, Any], number: str) -> dict[str, Any]:
    if model is SmartswitchSms:
        return {**fields, "destination_number": number}
    if model is BsgRcs:
        return {**fields, "phone": {**fields.get("phone", {}), "number": number}}
    return {**fields, "destination": number}


def _collect_placeholders(value: Any, names: set[str]) -> None:
    if isinstance(value, str):
        names.update(name for _, name, _, _ in string.Formatter().parse(value) if name)
    elif isinstance(value, Mapping):
        for item in value.values():
            _collect_placeholders(item, names)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect_placeholders(item, names)


def _has_placeholders(value: Any) -> bool:
    names: set[str] = set()
    _collect_placeholders(value, names)
    return bool(names)


def _render(value: Any, variables: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        return value.format_map(variables) if "{" in value else value
    if isinstance(value, Mapping):
        return {key: _render(item, variables) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_render(item, variables) for item in value]
    return value


def recipient_rows(recipients: Recipients) -> Iterator[Recipient]:
    """The recipients one by one, read lazily (a CSV file row by row)."""
    if isinstance(recipients, str | Path):
        path = Path(recipients)
        if not path.is_file():
            raise InvalidMessage([Problem("recipients", str(recipients), "is not a readable CSV file")])
        return _csv_rows(path)
    return iter(recipients)


def _csv_rows(path: Path) -> Iterator[Recipient]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or PHONE_COLUMN not in reader.fieldnames:
            raise InvalidMessage(
                [Problem("recipients", str(path), f"a campaign CSV needs a {PHONE_COLUMN!r} column")]
            )
        yield from reader

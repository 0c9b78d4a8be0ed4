"""Campaign input: a message template and recipients streamed from an iterable or a CSV file.

A template is a channel model and its fields, every field but the recipient's number; string
values may hold ``{name}`` placeholders filled from each recipient's variables. Only named
placeholders: no conversions, format specs, attributes or indexes (``{name!r}``, ``{x[0]}`` are
refused when the template is made), and ``{{`` / ``}}`` stand for a brace. A placeholder whose value
is missing or empty refuses that recipient: a message never says ``Hi None``. Names are matched
without regard to case, spaces and underscores (``{first_name}`` fills from a ``First Name`` column).

Recipients are numbers, dicts (``phone`` plus variables) or the rows of a CSV file with a ``phone``
column (``csv_rows``); they are read lazily, so a campaign of any size takes constant memory.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeAlias

from dispatcher.errors import InvalidMessage, Problem
from dispatcher.models.bsg import BsgRcs
from dispatcher.models.common import build
from dispatcher.models.smartswitch import SmartswitchSms
from dispatcher.phone import InvalidPhoneNumber, normalize_msisdn
from dispatcher.producer.csv_rows import CsvRow, column_key, read_csv
from dispatcher.producer.routing import Message, provider_of_model

PHONE_COLUMN = "phone"
_PHONE_KEY = column_key(PHONE_COLUMN)

Recipient: TypeAlias = str | Mapping[str, Any]
Recipients: TypeAlias = Iterable[Recipient] | str | Path

#: The rule of a placeholder, as the error states it.
PLACEHOLDER_RULE = (
    "placeholders are {name} only (a letter first, then letters, digits, spaces, _ or -): no "
    "conversions (!r), format specs (:>5), attributes (.x) or indexes ([0]); write {{ and }} for a brace"
)
_NAME = re.compile(r"[^\W\d][\w \-]*")
#: ``{{``, ``}}``, ``{anything}``, or a lone brace.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
#: Variable types a placeholder takes as they are (str() of a number is what the user wrote).
_SCALARS = (str, int, float, Decimal)


@dataclass(frozen=True, slots=True)
class _Text:
    """A string field compiled: literal runs and placeholder keys (``column_key``) in turn."""

    pieces: tuple[str | _Placeholder, ...]


@dataclass(frozen=True, slots=True)
class _Placeholder:
    name: str  # as written in the template
    key: str  # column_key(name)


def compile_text(text: str) -> _Text | str:
    """``text`` as literal runs and placeholders, or ``text`` itself when it has none (braces
    unescaped); raises ValueError stating the rule for anything but a named placeholder."""
    pieces: list[str | _Placeholder] = []
    literal: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        literal.append(text[position : match.start()])
        position = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            literal.append(token[0])
            continue
        name = match.group(1)
        if name is None:
            raise ValueError(f"a lone {token!r} at character {match.start() + 1}: {PLACEHOLDER_RULE}")
        if not _NAME.fullmatch(name.strip()):
            raise ValueError(f"{token!r} is not a named placeholder: {PLACEHOLDER_RULE}")
        pieces.append("".join(literal))
        literal = []
        pieces.append(_Placeholder(name.strip(), column_key(name)))
    literal.append(text[position:])
    if not any(isinstance(piece, _Placeholder) for piece in pieces):
        return "".join(literal)
    pieces.append("".join(literal))
    return _Text(tuple(piece for piece in pieces if piece != ""))


class RowPlace:
    """Where a recipient's problems are: named by field alone (a direct ``render`` call)."""

    @property
    def row(self) -> str:
        """The row itself (``line 5``, ``recipients[3]``)."""
        return "(recipient)"

    def column(self, name: str) -> str:
        """A recipient variable (a CSV column) named ``name``."""
        return name

    def field(self, name: str) -> str:
        """A field of the message the row became (``text``, ``destination``)."""
        return name


@dataclass(frozen=True, slots=True)
class IndexPlace(RowPlace):
    """The recipient at ``index`` of an iterable: ``recipients[1003].name``."""

    index: int

    @property
    def row(self) -> str:
        return f"recipients[{self.index}]"

    def column(self, name: str) -> str:
        return f"recipients[{self.index}].{name}"

    def field(self, name: str) -> str:
        return f"recipients[{self.index}].{name}"


@dataclass(frozen=True, slots=True)
class LinePlace(RowPlace):
    """A CSV row: ``line 5, column Name`` (the header's spelling), ``line 5: text``."""

    csv_row: CsvRow

    @property
    def row(self) -> str:
        return f"line {self.csv_row.line}"

    def column(self, name: str) -> str:
        return f"line {self.csv_row.line}, column {self.csv_row.column(column_key(name))}"

    def field(self, name: str) -> str:
        return f"line {self.csv_row.line}: {name}"


#: Problems named by field alone.
_BY_FIELD = RowPlace()


def place_of(recipient: Recipient, index: int) -> RowPlace:
    """How problems of the ``index``-th recipient (0-based) are named."""
    return LinePlace(recipient) if isinstance(recipient, CsvRow) else IndexPlace(index)


@dataclass(frozen=True)
class MessageTemplate:
    """``MessageTemplate(RevicomSms, {"sender_name": "SHOP", "text": "Hi {name}, 20% off today"})``."""

    model: type[Message]
    fields: Mapping[str, Any]
    #: The placeholders used anywhere in the fields, as written (filled in at construction).
    placeholders: frozenset[str] = field(init=False)
    #: The top-level fields compiled, only those holding a placeholder or a brace escape.
    _compiled: Mapping[str, Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        provider_of_model(self.model)
        compiled: dict[str, Any] = {}
        names: set[str] = set()
        for key, value in self.fields.items():
            try:
                result = _compile(value, names)
            except ValueError as exc:
                raise InvalidMessage([Problem(f"template.{key}", value, str(exc))]) from None
            if result is not value:
                compiled[key] = result
        object.__setattr__(self, "placeholders", frozenset(names))
        object.__setattr__(self, "_compiled", compiled)

    def render(
        self, recipient: Recipient, *, region: str | None = None, place: RowPlace | None = None
    ) -> Message:
        """The message for one recipient; raises InvalidMessage naming what is wrong, where
        ``place`` says (by default by field only). ``region``: the region a number written
        nationally (``8 916 123-45-67``) belongs to; without one such a number is refused."""
        where = place or _BY_FIELD
        variables: Mapping[str, Any]
        number: str | None
        cell = recipient.get(_PHONE_KEY) if isinstance(recipient, CsvRow) and not recipient.surplus else None
        if isinstance(recipient, CsvRow) and cell:  # the common case, without a call
            variables, number = recipient, cell
        else:
            variables, number = _variables(recipient, where)
        fields = dict(self.fields)
        problems: list[Problem] = []
        for key, compiled in self._compiled.items():
            fields[key] = _render(compiled, variables, where, problems)
        if number is not None and region is not None and not number.lstrip().startswith(("+", "00")):
            try:
                number = normalize_msisdn(number, default_region=region)
            except InvalidPhoneNumber as exc:
                problems.append(
                    Problem(where.column(PHONE_COLUMN), number, f"must be a valid phone number: {exc}")
                )
        if problems or number is None:
            raise InvalidMessage(problems)
        try:
            return build(self.model, _with_number(self.model, fields, number))
        except InvalidMessage as exc:
            raise InvalidMessage([_placed(problem, where) for problem in exc.problems]) from None

    def check_columns(self, headers: Mapping[str, str]) -> None:
        """Refuse, once for a whole CSV file, a placeholder no column of its header fills
        (``headers``: column_key -> the header as written)."""
        unknown = sorted(name for name in self.placeholders if column_key(name) not in headers)
        if unknown:
            found = ", ".join(repr(name) for name in headers.values())
            raise InvalidMessage(
                [
                    Problem(
                        "line 1",
                        f"{{{name}}}",
                        f"the template uses {{{name}}} but no column of the file is named so "
                        f"(columns found: {found})",
                    )
                    for name in unknown
                ]
            )


def _variables(recipient: Recipient, where: RowPlace) -> tuple[Mapping[str, Any], str | None]:
    """The recipient's variables keyed by ``column_key``, and its number; raises for a row that
    cannot be a recipient at all (no number, a cell too many, two keys for one column)."""
    if isinstance(recipient, str):
        return {}, recipient
    if isinstance(recipient, CsvRow):
        if recipient.surplus:
            raise InvalidMessage(
                [
                    Problem(
                        f"line {recipient.line}",
                        recipient.surplus,
                        f"has {len(recipient) + len(recipient.surplus)} cells but the header has "
                        f"{len(recipient)} columns ({', '.join(recipient.headers.values())})",
                    )
                ]
            )
        variables: Mapping[str, Any] = recipient
    else:
        variables = {column_key(str(key)): value for key, value in recipient.items()}
        if len(variables) != len(recipient):
            raise InvalidMessage(
                [
                    Problem(
                        where.row,
                        sorted(map(str, recipient)),
                        "two keys name one variable (case, spaces and underscores do not count)",
                    )
                ]
            )
    number = variables.get(_PHONE_KEY)
    if not isinstance(number, str) or not number.strip():
        raise InvalidMessage(
            [Problem(where.column(PHONE_COLUMN), number, "every recipient needs a phone number (text)")]
        )
    return variables, number


def _placed(problem: Problem, where: RowPlace) -> Problem:
    """A model's problem named where the row is: its number field is the phone column."""
    if problem.field in ("destination", "destination_number", "phone.number"):
        return Problem(where.column(PHONE_COLUMN), problem.value, problem.rule)
    return Problem(where.field(problem.field), problem.value, problem.rule)


def _with_number(model: type[Message], fields: dict[str, Any], number: str) -> dict[str, Any]:
    if model is SmartswitchSms:
        return {**fields, "destination_number": number}
    if model is BsgRcs:
        return {**fields, "phone": {**fields.get("phone", {}), "number": number}}
    return {**fields, "destination": number}


def _compile(value: Any, names: set[str]) -> Any:
    """``value`` with every string compiled (``compile_text``); ``value`` itself if nothing changed."""
    if isinstance(value, str):
        compiled = compile_text(value)
        if isinstance(compiled, _Text):
            names.update(piece.name for piece in compiled.pieces if isinstance(piece, _Placeholder))
            return compiled
        return value if compiled == value else compiled
    if isinstance(value, Mapping):
        items = {key: _compile(item, names) for key, item in value.items()}
        return value if all(items[key] is value[key] for key in value) else items
    if isinstance(value, list | tuple):
        converted = [_compile(item, names) for item in value]
        return value if all(a is b for a, b in zip(converted, value, strict=True)) else converted
    return value


def _render(value: Any, variables: Mapping[str, Any], where: RowPlace, problems: list[Problem]) -> Any:
    if isinstance(value, _Text):
        parts: list[str] = []
        for piece in value.pieces:
            if piece.__class__ is str:
                parts.append(piece)
                continue
            assert isinstance(piece, _Placeholder)
            filled = variables.get(piece.key)
            # The common case first (a CSV cell, a str value): no conversion to make.
            if filled.__class__ is str and filled.strip():
                parts.append(filled)
                continue
            if isinstance(filled, bool) or not isinstance(filled, _SCALARS):
                rule = (
                    f"the template uses {{{piece.name}}}; this recipient has no value for it"
                    if filled is None
                    else f"the template uses {{{piece.name}}}: its value must be text or a number"
                )
                problems.append(Problem(where.column(piece.name), filled, rule))
                continue
            text = str(filled)
            if not text.strip():
                problems.append(
                    Problem(
                        where.column(piece.name),
                        filled,
                        f"the template uses {{{piece.name}}}; it is empty here",
                    )
                )
            parts.append(text)
        return "".join(parts)
    if isinstance(value, Mapping):
        return {key: _render(item, variables, where, problems) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_render(item, variables, where, problems) for item in value]
    return value


def recipient_rows(recipients: Recipients) -> Iterator[Recipient]:
    """The recipients one by one, read lazily (a CSV file row by row, ``csv_rows.read_csv``)."""
    if isinstance(recipients, str | Path):
        path = Path(recipients)
        if not path.is_file():
            raise InvalidMessage([Problem("recipients", str(recipients), "is not a readable CSV file")])
        return read_csv(path, required=PHONE_COLUMN)
    return iter(recipients)

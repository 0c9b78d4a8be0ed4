"""Recipient CSV files as people export them: UTF-8 with or without a byte-order mark, UTF-16
(Excel's "Unicode text"), comma, semicolon or tab between cells, header names in any case.

Every row remembers the line it starts on (1-based, the header is line 1) so a bad cell is named
where the user can find it; a file that cannot be read is refused with the line and the reason,
never with a decoder's traceback. Rows are read lazily: a file of any size takes constant memory.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from dispatcher.errors import InvalidMessage, Problem

#: The delimiters a header line is sniffed for; a header holding none of them is one column.
DELIMITERS = (",", ";", "\t")
#: What the whole file is refused with when it is not text we can read.
ENCODING_RULE = (
    "must be a CSV text file in UTF-8 (with or without BOM) or UTF-16 with BOM (Excel's 'Unicode text')"
)
#: Bytes read ahead to tell a UTF-16 file without a byte-order mark from UTF-8.
_SNIFF_BYTES = 4096


def column_key(name: str) -> str:
    """The name a column (or a template placeholder, or a recipient dict's key) is matched by:
    case, spaces and underscores do not count (``First Name`` is ``first_name`` is ``firstname``)."""
    return "".join(name.split()).replace("_", "").casefold()


class CsvRow(dict[str, str | None]):
    """One data row: its cells keyed by ``column_key`` of the header (``None`` for a cell the row
    is short of), with the line it starts on and the header's own spelling of each column."""

    __slots__ = ("headers", "line", "surplus")

    #: The line it starts on (1-based; the header is line 1).
    line: int
    #: column_key -> the header as written in the file.
    headers: Mapping[str, str]
    #: Cells beyond the header's columns (a stray delimiter): the row is refused, never cut.
    surplus: list[str]

    @classmethod
    def of(
        cls,
        cells: Mapping[str, str | None],
        *,
        line: int,
        headers: Mapping[str, str],
        surplus: list[str] | None = None,
    ) -> CsvRow:
        row = cls(cells)
        row.line, row.headers, row.surplus = line, headers, surplus or []
        return row

    def column(self, key: str) -> str:
        """The header as the file spells it, for the column matched by ``key``."""
        return self.headers.get(key, key)


def read_csv(path: Path, *, required: str, name: str | None = None) -> Iterator[CsvRow]:
    """The data rows of the CSV file at ``path``, which must have a header naming ``required``
    (matched by ``column_key``). Raises ``InvalidMessage`` naming the file (as ``name``, by default
    its path), or the line, and the rule."""
    shown = Path(name) if name is not None else path
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InvalidMessage(
            [Problem("recipients", str(shown), f"cannot be read ({exc.strerror})")]
        ) from None
    try:
        encoding = _encoding(handle, shown)
        lines = _decoded_lines(handle, encoding, path, shown)
        header_line = next(lines, None)
        if header_line is None:
            raise InvalidMessage(
                [Problem("recipients", str(shown), "is empty: a CSV file needs a header row")]
            )
        delimiter = max(DELIMITERS, key=header_line.count)
        reader = csv.reader(_chain(header_line, lines), delimiter=delimiter, strict=True)
        header = _next_record(reader, shown)
        headers = _headers(header or [], shown, required=required)
        keys = tuple(headers)
        yield from _rows(reader, keys, headers, shown)
    finally:
        handle.close()


def _encoding(handle: BinaryIO, path: Path) -> str:
    start = handle.read(_SNIFF_BYTES)
    handle.seek(0)
    if start.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in start:
        raise InvalidMessage(
            [
                Problem(
                    "recipients",
                    str(path),
                    f"holds NUL bytes (UTF-16 without a byte-order mark?): {ENCODING_RULE}",
                )
            ]
        )
    return "utf-8"


def _decoded_lines(handle: BinaryIO, encoding: str, path: Path, shown: Path) -> Iterator[str]:
    """The file's lines as text, ends kept (the csv module wants them), decoded by the C codec in
    blocks. A byte that is not text is named by its line: found by reading the file again, line by
    line (only for a file that is refused anyway)."""
    # newline="": lines split at \n, \r or \r\n only, ends kept untranslated, as csv wants.
    text = io.TextIOWrapper(handle, encoding=encoding, errors="strict", newline="")
    try:
        yield from text
    except UnicodeDecodeError as exc:
        raise _undecodable(shown, _first_undecodable_line(path, encoding), exc) from None


def _first_undecodable_line(path: Path, encoding: str) -> int:
    """The line of the first byte that is not ``encoding`` text (UTF-16: the decoder's block
    boundaries make it the first line of the block, at worst)."""
    if encoding == "utf-16":
        number = 0
        with path.open(encoding="utf-16", errors="strict", newline="") as text:
            try:
                for number, _ in enumerate(text, start=1):  # noqa: B007 - read after the loop
                    pass
            except UnicodeDecodeError:
                return number + 1
        return number
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode(encoding if number == 1 else "utf-8")
            except UnicodeDecodeError:
                return number
    return 1


def _undecodable(path: Path, line: int, exc: UnicodeDecodeError) -> InvalidMessage:
    return InvalidMessage(
        [
            Problem(
                f"line {line}",
                str(path),
                f"is not {exc.encoding} text (byte {exc.start + 1} of the line): {ENCODING_RULE}",
            )
        ]
    )


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def _next_record(reader: Iterator[list[str]], path: Path) -> list[str] | None:
    try:
        return next(reader, None)
    except csv.Error as exc:
        line = getattr(reader, "line_num", 0)
        raise InvalidMessage([Problem(f"line {line}", str(path), f"is not valid CSV: {exc}")]) from None


def _headers(header: list[str], path: Path, *, required: str) -> dict[str, str]:
    """column_key -> the header as written; refuses empty, repeated or missing required columns."""
    found = ", ".join(repr(name) for name in header) or "none"
    headers: dict[str, str] = {}
    for position, name in enumerate(header, start=1):
        key = column_key(name)
        if not key:
            raise InvalidMessage(
                [
                    Problem(
                        "line 1",
                        str(path),
                        f"column {position} of the header has no name (columns found: {found})",
                    )
                ]
            )
        if key in headers:
            raise InvalidMessage(
                [
                    Problem(
                        "line 1",
                        str(path),
                        f"columns {headers[key]!r} and {name!r} are the same column (case, spaces and "
                        f"underscores do not count; columns found: {found})",
                    )
                ]
            )
        headers[key] = name
    if column_key(required) not in headers:
        raise InvalidMessage(
            [
                Problem(
                    "line 1",
                    str(path),
                    f"a campaign CSV needs a {required!r} column (columns found: {found})",
                )
            ]
        )
    return headers


def _rows(reader: Any, keys: tuple[str, ...], headers: Mapping[str, str], path: Path) -> Iterator[CsvRow]:
    """The data rows of ``reader`` (a csv.reader past the header); blank lines are skipped."""
    width = len(keys)
    line = reader.line_num
    try:
        for record in reader:
            start, line = line + 1, reader.line_num
            if not record:
                continue  # a blank line
            row = CsvRow(zip(keys, record, strict=False))
            if len(record) < width:
                row.update(dict.fromkeys(keys[len(record) :]))
            row.line, row.headers, row.surplus = start, headers, record[width:]
            yield row
    except csv.Error as exc:
        raise InvalidMessage(
            [Problem(f"line {reader.line_num}", str(path), f"is not valid CSV: {exc}")]
        ) from None

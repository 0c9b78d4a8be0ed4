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
from typing import BinaryIO

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

    def __init__(
        self,
        cells: Mapping[str, str | None],
        *,
        line: int,
        headers: Mapping[str, str],
        surplus: list[str] | None = None,
    ) -> None:
        super().__init__(cells)
        self.line = line
        #: Cells beyond the header's columns (a stray delimiter): the row is refused, never cut.
        self.surplus = surplus or []
        #: column_key -> the header as written in the file.
        self.headers = headers

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
        lines = _decoded_lines(handle, encoding, shown)
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


def _decoded_lines(handle: BinaryIO, encoding: str, path: Path) -> Iterator[str]:
    """The file's lines as text, ends kept (the csv module wants them). UTF-8 is decoded line by
    line, so a bad byte is named by its line; UTF-16 (always with a BOM here) by the codec's stream."""
    if encoding == "utf-16":
        # newline="": lines split at \n, \r or \r\n only, ends kept untranslated, as csv wants.
        text = io.TextIOWrapper(handle, encoding="utf-16", errors="strict", newline="")
        number = 0
        try:
            for number, line in enumerate(text, start=1):  # noqa: B007 - read after the loop
                yield line
        except UnicodeDecodeError as exc:
            # The stream decodes ahead in blocks: the bad character is at or after this line.
            raise _undecodable(path, number + 1, exc) from None
        return
    for number, raw in enumerate(handle, start=1):
        try:
            yield raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise _undecodable(path, number, exc) from None
        if encoding == "utf-8-sig":
            encoding = "utf-8"  # the BOM is only at the start


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


def _rows(
    reader: Iterator[list[str]], keys: tuple[str, ...], headers: Mapping[str, str], path: Path
) -> Iterator[CsvRow]:
    width = len(keys)
    line = getattr(reader, "line_num", 1)
    while True:
        start = line + 1
        record = _next_record(reader, path)
        if record is None:
            return
        line = getattr(reader, "line_num", start)
        if not record:
            continue  # a blank line
        cells: dict[str, str | None] = dict(zip(keys, record, strict=False))
        for key in keys[len(record) :]:
            cells[key] = None
        yield CsvRow(cells, line=start, headers=headers, surplus=record[width:])

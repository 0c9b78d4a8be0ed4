"""CSV files as people export them are read; files that cannot be read are refused by line."""

from __future__ import annotations

from pathlib import Path

import pytest

from dispatcher.errors import InvalidMessage
from dispatcher.producer.csv_rows import column_key, read_csv

ROWS = [("79161234567", "Ann"), ("79161234568", "Bö")]


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "people.csv"
    path.write_bytes(data)
    return path


def text(delimiter: str, newline: str = "\r\n") -> str:
    lines = [f"Phone{delimiter} First Name ", *(delimiter.join(row) for row in ROWS)]
    return newline.join(lines) + newline


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [
        ("utf-8", ","),
        ("utf-8-sig", ";"),  # Excel's "CSV UTF-8" (with a BOM), a European list separator
        ("utf-16", "\t"),  # Excel's "Unicode text": UTF-16 LE with a BOM, tab-separated
        ("utf-16-be", ","),
    ],
)
def test_exports_people_make_are_read_with_their_lines(tmp_path: Path, encoding: str, delimiter: str) -> None:
    data = text(delimiter).encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data

    rows = list(read_csv(write(tmp_path, data), required="phone"))

    assert [dict(row) for row in rows] == [{"phone": p, "firstname": n} for p, n in ROWS]
    assert [row.line for row in rows] == [2, 3]
    assert rows[0].column("firstname") == " First Name "


def test_a_quoted_cell_over_two_lines_keeps_the_next_rows_line_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, b'phone,note\n79161234567,"two\nlines"\n\n79161234568,x\n')

    rows = list(read_csv(path, required="phone"))

    assert [(row.line, row["note"]) for row in rows] == [(2, "two\nlines"), (5, "x")]


def test_a_short_row_has_none_for_its_missing_cells_and_a_long_one_keeps_its_surplus(tmp_path: Path) -> None:
    path = write(tmp_path, b"phone,name,city\n79161234567,Ann\n79161234568,Bo,Oslo,extra\n")

    short, long = read_csv(path, required="phone")

    assert dict(short) == {"phone": "79161234567", "name": "Ann", "city": None}
    assert long.surplus == ["extra"]


def test_a_byte_that_is_not_utf8_is_refused_naming_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, b"phone,name\n79161234567,Ann\n79161234568,J\xf6rg\n")

    with pytest.raises(InvalidMessage) as caught:
        list(read_csv(path, required="phone"))

    [problem] = caught.value.problems
    assert problem.field == "line 3"
    assert "utf-8" in problem.rule
    assert "UTF-16" in problem.rule


def test_utf16_without_a_byte_order_mark_is_refused_as_such(tmp_path: Path) -> None:
    path = write(tmp_path, "phone\n79161234567\n".encode("utf-16-le"))

    with pytest.raises(InvalidMessage, match="UTF-16 without a byte-order mark"):
        list(read_csv(path, required="phone"))


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (b"", "is empty"),
        (b"name,city\nAnn,Oslo\n", "needs a 'phone' column (columns found: 'name', 'city')"),
        (b"phone,Name,NAME\n", "columns 'Name' and 'NAME' are the same column"),
        (b"phone,,name\n", "column 2 of the header has no name"),
        (b'phone,name\n79161234567,"Ann\n', "is not valid CSV"),
    ],
)
def test_a_file_that_cannot_be_a_recipient_list_is_refused_saying_why(
    tmp_path: Path, data: bytes, rule: str
) -> None:
    with pytest.raises(InvalidMessage) as caught:
        list(read_csv(write(tmp_path, data), required="phone", name="upload.csv"))

    [problem] = caught.value.problems
    assert rule in problem.rule
    assert problem.value == "upload.csv"


def test_an_unreadable_file_is_refused_not_raised(tmp_path: Path) -> None:
    with pytest.raises(InvalidMessage, match="cannot be read"):
        list(read_csv(tmp_path, required="phone"))


@pytest.mark.parametrize("name", ["first_name", "First Name", " FIRSTNAME ", "first name"])
def test_column_names_match_whatever_their_case_spaces_and_underscores(name: str) -> None:
    assert column_key(name) == "firstname"

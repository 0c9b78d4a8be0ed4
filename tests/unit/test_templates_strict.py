"""Templates substitute named placeholders only, and never send a message with a hole in it."""

from __future__ import annotations

import pytest

from dispatcher.errors import InvalidMessage
from dispatcher.models.revicom import RevicomSms
from dispatcher.producer.csv_rows import CsvRow
from dispatcher.producer.templates import IndexPlace, LinePlace, MessageTemplate


def template(text: str) -> MessageTemplate:
    return MessageTemplate(RevicomSms, {"sender_name": "SHOP", "text": text})


@pytest.mark.parametrize(
    "text",
    ["Hi {name!r}", "Hi {name:>10}", "Hi {x[0]}", "Hi {user.name}", "Hi {}", "Hi {0}", "Hi {name", "Hi }"],
)
def test_anything_but_a_named_placeholder_is_refused_when_the_template_is_made(text: str) -> None:
    with pytest.raises(InvalidMessage) as caught:
        template(text)

    [problem] = caught.value.problems
    assert (problem.field, problem.value) == ("template.text", text)
    assert "placeholders are {name} only" in problem.rule


def test_named_placeholders_fill_and_double_braces_stay_braces() -> None:
    made = template("Hi {name}, {{not a placeholder}} {First Name}")

    message = made.render({"phone": "79161234567", "name": "Ann", "first_name": "Bo"})

    assert isinstance(message, RevicomSms)
    assert message.text == "Hi Ann, {not a placeholder} Bo"
    assert made.placeholders == {"name", "First Name"}


def test_braces_without_placeholders_are_unescaped_too() -> None:
    message = template("Sale {{today}}").render("79161234567")

    assert isinstance(message, RevicomSms)
    assert message.text == "Sale {today}"


@pytest.mark.parametrize("value", [None, "", "   "])
def test_a_missing_or_empty_value_refuses_the_row_never_sends_a_hole(value: str | None) -> None:
    recipient = {"phone": "79161234567"} if value is None else {"phone": "79161234567", "name": value}

    with pytest.raises(InvalidMessage) as caught:
        template("Hi {name}").render(recipient, place=IndexPlace(7))

    [problem] = caught.value.problems
    assert problem.field == "recipients[7].name"
    assert problem.value == value


def test_a_csv_row_is_named_by_its_line_and_the_header_spelling_of_the_column() -> None:
    row = CsvRow.of(
        {"phone": "79161234567", "firstname": None},
        line=5,
        headers={"phone": "Phone", "firstname": "First Name"},
    )

    with pytest.raises(InvalidMessage) as caught:
        template("Hi {first_name}").render(row, place=LinePlace(row))

    [problem] = caught.value.problems
    assert problem.field == "line 5, column First Name"
    assert problem.value is None


def test_a_bad_number_in_a_csv_row_names_the_phone_column() -> None:
    row = CsvRow.of({"phone": "12"}, line=3, headers={"phone": "PHONE"})

    with pytest.raises(InvalidMessage) as caught:
        template("Hi").render(row, place=LinePlace(row))

    assert [p.field for p in caught.value.problems] == ["line 3, column PHONE"]


def test_a_row_with_a_cell_too_many_is_refused_not_cut() -> None:
    row = CsvRow.of(
        {"phone": "79161234567", "name": "Ann"},
        line=4,
        headers={"phone": "phone", "name": "name"},
        surplus=["x"],
    )

    with pytest.raises(InvalidMessage) as caught:
        template("Hi {name}").render(row, place=LinePlace(row))

    [problem] = caught.value.problems
    assert (problem.field, problem.value) == ("line 4", ["x"])
    assert "3 cells but the header has 2 columns" in problem.rule


@pytest.mark.parametrize(("value", "text"), [(3, "You have 3 points"), (2.5, "You have 2.5 points")])
def test_numbers_fill_as_written(value: float, text: str) -> None:
    message = template("You have {points} points").render({"phone": "79161234567", "points": value})

    assert isinstance(message, RevicomSms)
    assert message.text == text


@pytest.mark.parametrize("value", [True, ["a"], {"a": 1}])
def test_values_that_are_not_text_or_numbers_are_refused(value: object) -> None:
    with pytest.raises(InvalidMessage, match="must be text or a number"):
        template("Hi {name}").render({"phone": "79161234567", "name": value})


def test_two_keys_for_one_variable_are_refused() -> None:
    with pytest.raises(InvalidMessage, match="two keys name one variable"):
        template("Hi {name}").render({"phone": "79161234567", "name": "a", "Name": "b"})


def test_a_national_number_is_read_in_the_region_given() -> None:
    message = template("Hi").render("8 (916) 123-45-67", region="RU")

    assert isinstance(message, RevicomSms)
    assert message.destination == "79161234567"


def test_a_national_number_without_a_region_is_refused_with_a_region_hint() -> None:
    with pytest.raises(InvalidMessage) as caught:
        template("Hi").render("8 (916) 123-45-67")

    [problem] = caught.value.problems
    assert "region" in problem.rule
    assert "plus" not in problem.rule.lower()


def test_check_columns_names_a_placeholder_no_column_fills() -> None:
    with pytest.raises(InvalidMessage) as caught:
        template("Hi {name} from {city}").check_columns({"phone": "phone", "name": "Name"})

    [problem] = caught.value.problems
    assert problem.field == "line 1"
    assert "{city}" in problem.rule
    assert "'phone', 'Name'" in problem.rule

"""Every broken rule of every channel model, drawn at random, is an ``InvalidMessage`` naming the
field, the value and the rule; random JSON never raises anything but ``InvalidMessage``. The
example-based rule tests live in test_revicom_models.py, test_bsg_model.py and
test_smartswitch_model.py.
"""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatcher.errors import InvalidMessage, Problem
from dispatcher.models.bsg import BsgRcs
from dispatcher.models.common import build
from dispatcher.models.revicom import (
    RevicomFlashCall,
    RevicomSms,
    RevicomVk,
    RevicomVoiceCode,
    build_revicom_message,
)
from dispatcher.models.smartswitch import SmartswitchSms
from tests.unit.model_strategies import (
    ALL_BASES,
    BOUNDED,
    BSG_BASE,
    FUZZ,
    NOW,
    REVICOM_BASES,
    http_urls,
    rcs_texts,
    visible_text,
    wire_bytes,
)

# ---- every broken rule is InvalidMessage(field, value, rule) -------------------------------------

not_numbers = st.one_of(
    st.from_regex(r"\+?[0-9]{1,5}", fullmatch=True),
    st.from_regex(r"\+?[0-9]{17,40}", fullmatch=True),
    st.text(alphabet=string.ascii_letters + " -()", max_size=20),
)
blank = st.text(alphabet=" \t\r\n\u00a0\u2003\u3000", max_size=5)
not_ints = st.one_of(
    st.floats(allow_nan=False), st.text(max_size=5), st.booleans(), st.lists(st.integers(), max_size=2)
)
not_bools = st.one_of(st.integers(), st.sampled_from(["true", "false", "1", "0", "yes", ""]), st.just([]))
outside_sms_ttl = st.one_of(st.integers(max_value=59), st.integers(min_value=86401))
not_four_digits = st.text(max_size=8).filter(lambda s: not (len(s) == 4 and s.isascii() and s.isdigit()))
bad_urls = st.one_of(
    st.from_regex(r"(ftp|file|mailto|javascript):[a-z/]{1,20}", fullmatch=True),
    st.from_regex(r"[a-z]{1,10}\.[a-z]{2,4}/[a-z]{0,10}", fullmatch=True),
    st.just("https:///x"),
)

# (model, field changed, strategy of a value breaking it, words of the rule)
VIOLATIONS: list[tuple[type[Any], str, st.SearchStrategy[Any], str]] = [
    *[(model, "destination", not_numbers, "valid phone number") for model in REVICOM_BASES],
    *[
        (model, "destination", st.one_of(st.integers(), st.none(), st.lists(st.text())), "valid string")
        for model in REVICOM_BASES
    ],
    *[
        (model, "sender_name", blank, "must not be empty")
        for model in (RevicomSms, RevicomFlashCall, RevicomVk)
    ],
    (RevicomSms, "text", blank, "text must not be empty"),
    (RevicomVk, "text", blank, "text must not be empty"),
    (RevicomSms, "text", st.text(min_size=1).map(lambda s: f"a{s}\ufeff"), "byte order mark"),
    (
        RevicomVk,
        "text",
        st.tuples(st.integers(2049, 2200), visible_text).map(lambda p: ("я" * p[0] + p[1])[: p[0]]),
        "1..2048",
    ),
    (RevicomVoiceCode, "text", st.text(max_size=50), "text must be 'Код авторизации от {brand}: {code}'"),
    (RevicomVoiceCode, "sender_name", st.text(max_size=10).filter(lambda s: s != "voicecode"), "'voicecode'"),
    (RevicomVoiceCode, "external_message_id", st.text(min_size=101, max_size=150), "1..100"),
    (RevicomSms, "ttl_s", outside_sms_ttl, "60..86400"),
    (RevicomVk, "ttl_s", outside_sms_ttl, "60..86400"),
    (
        RevicomVoiceCode,
        "ttl_s",
        st.one_of(st.integers(max_value=29), st.integers(min_value=86401)),
        "30..86400",
    ),
    *[(model, "ttl_s", not_ints, "integer") for model in (RevicomSms, RevicomVk, RevicomVoiceCode)],
    (RevicomFlashCall, "code", not_four_digits, "exactly 4 digits"),
    (RevicomFlashCall, "ttl_s", st.integers(60, 600), "Extra inputs are not permitted"),
    *[(model, "use_local_time", not_bools, "boolean") for model in (RevicomSms, RevicomVk)],
    *[(model, "short_url", not_bools, "boolean") for model in (RevicomSms, RevicomVk)],
    (RevicomSms, "callback_url", bad_urls, "callback URL"),
    (SmartswitchSms, "destination_number", not_numbers, "valid phone number"),
    (SmartswitchSms, "body", blank, "visible text"),
    (
        SmartswitchSms,
        "source_name",
        st.text(max_size=20).filter(
            lambda s: not (s.isascii() and s.isalnum() and 1 <= len(s) <= 11 and not s.isdigit())
        ),
        "alphanumeric sender",
    ),
    (
        SmartswitchSms,
        "source_number",
        st.text(max_size=20).filter(lambda s: not (s.isascii() and s.isdigit() and 1 <= len(s) <= 15)),
        "sender number",
    ),
    (
        SmartswitchSms,
        "request_id",
        st.one_of(
            st.just(""),
            st.text(alphabet="!@#$%^&* /é", min_size=1, max_size=5),
            st.text(alphabet="ab", min_size=65, max_size=80),
        ),
        "1..64 characters",
    ),
    (SmartswitchSms, "require_dlr", not_bools, "boolean"),
    (BsgRcs, "sender", st.one_of(st.just(""), st.text(min_size=41, max_size=60)), "1..40"),
    (
        BsgRcs,
        "validity_seconds",
        st.one_of(st.integers(max_value=29), st.integers(min_value=86_401)),
        "than or equal to",
    ),
    (BsgRcs, "validity", st.one_of(st.integers(max_value=0), st.integers(min_value=73)), "than or equal to"),
    (BsgRcs, "tariff_code", st.integers(max_value=-1), "greater than or equal to 0"),
    (BsgRcs, "callback_url", http_urls.map(lambda url: url + "/" + "p" * 100), "at most 100"),
    (BsgRcs, "callback_url", bad_urls, "absolute http"),
    (BsgRcs, "add_to_contact_book", not_bools, "boolean"),
]


def _problem(model: type[Any], data: Any, field: str) -> Problem:
    with pytest.raises(InvalidMessage) as caught:
        build(model, data)
    matching = [problem for problem in caught.value.problems if problem.field == field]
    assert matching, f"no problem names {field}: {caught.value.problems}"
    assert all(problem.rule for problem in caught.value.problems)
    return matching[0]


@pytest.mark.parametrize(
    ("model", "field", "values", "rule"),
    VIOLATIONS,
    ids=[f"{model.__name__}.{field}-{rule[:20]}" for model, field, _, rule in VIOLATIONS],
)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_broken_rule_is_refused_naming_field_value_and_rule(
    model: type[Any], field: str, values: st.SearchStrategy[Any], rule: str, data: st.DataObject
) -> None:
    value = data.draw(values)
    problem = _problem(model, {**ALL_BASES[model], field: value}, field)

    assert problem.value == value
    assert rule in problem.rule, problem


@pytest.mark.parametrize(
    ("field", "values", "rule"),
    [
        ("phone", not_numbers.map(lambda n: {"number": n}), "phone number"),
        (
            "phone",
            st.from_regex(r"[A-Za-z0-9]{33,40}|[a-z]{0,5}[-_ !][a-z]{0,5}", fullmatch=True).map(
                lambda r: {"number": "380661231231", "reference_id": r}
            ),
            "reference_id",
        ),
        ("options", rcs_texts.map(lambda t: {"text": t * 3 + "x" * 161}), "1..160"),
        (
            "options",
            st.lists(st.fixed_dictionaries({"text": st.just("c")}), min_size=6, max_size=8).map(
                lambda c: {"cards": c}
            ),
            "1..5",
        ),
        ("options", st.just({}), "exactly one of text or cards"),
        (
            "alternative_channel",
            st.integers(766, 900).map(lambda n: {"sms": {"text": "ab" * n, "sender": "S"}}),
            "765",
        ),
        (
            "alternative_channel",
            st.integers(356, 400).map(lambda n: {"sms": {"text": "я" * n, "sender": "S"}}),
            "355",
        ),
    ],
)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_a_broken_nested_bsg_rule_names_the_path_inside(
    field: str, values: st.SearchStrategy[Any], rule: str, data: st.DataObject
) -> None:
    value = data.draw(values)
    with pytest.raises(InvalidMessage) as caught:
        build(BsgRcs, {**BSG_BASE, field: value})

    [problem] = caught.value.problems
    assert problem.field == field or problem.field.startswith(f"{field}.")
    assert rule in problem.rule
    # The value named is the one found at that path of what was given.
    found: Any = {field: value}
    for part in problem.field.split("."):
        found = found[int(part)] if isinstance(found, list) else found[part]
    assert problem.value == found


@pytest.mark.parametrize("model", list(ALL_BASES), ids=lambda model: model.__name__)
def test_every_missing_required_field_is_named(model: type[Any]) -> None:
    required = [name for name, info in model.model_fields.items() if info.is_required()]
    assert required
    for field in required:
        data = {name: value for name, value in ALL_BASES[model].items() if name != field}
        problem = _problem(model, data, field)
        assert problem.rule == "Field required"


@BOUNDED
@given(
    st.sampled_from(list(ALL_BASES)),
    st.text(min_size=1, max_size=20),
    st.integers(),
)
def test_an_unknown_field_is_refused_by_every_model(model: type[Any], name: str, value: int) -> None:
    if name in model.model_fields:
        return
    problem = _problem(model, {**ALL_BASES[model], name: value}, name)
    assert problem.value == value
    assert "Extra inputs are not permitted" in problem.rule


# ---- random JSON: InvalidMessage or a valid message, nothing else --------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
FIELD_NAMES = sorted(
    {name for model in ALL_BASES for name in model.model_fields} | {"number", "text", "cards", "sms"}
)


@st.composite
def near_messages(draw: st.DrawFn) -> Any:
    """A valid base with random fields replaced, added or removed, or random JSON outright."""
    if draw(st.integers(0, 4)) == 0:
        return draw(json_values)
    model = draw(st.sampled_from(list(ALL_BASES)))
    data = dict(ALL_BASES[model])
    for name in draw(st.lists(st.sampled_from(FIELD_NAMES), max_size=4)):
        if draw(st.booleans()):
            data[name] = draw(json_values)
        else:
            data.pop(name, None)
    if model in REVICOM_BASES and draw(st.booleans()):
        data["channel"] = draw(st.sampled_from(["SMS", "VOICECODE", "FLASHCALL", "VK"]) | json_values)
    return data


@FUZZ
@given(near_messages())
def test_random_json_is_a_valid_message_or_invalid_message_never_another_error(data: Any) -> None:
    refusals: list[InvalidMessage] = []
    for model in [*ALL_BASES, None]:
        try:
            message = (
                build_revicom_message(data, context={"now": NOW}) if model is None else build(model, data)
            )
        except InvalidMessage as exc:
            refusals.append(exc)
            continue
        # Accepted: it must also go on the wire.
        assert wire_bytes(message)
    problems = [problem for refusal in refusals for problem in refusal.problems]
    assert all(refusal.problems for refusal in refusals)
    assert all(isinstance(p.field, str) and p.field and p.rule for p in problems)

"""Shared cases and assertions of the Revicom model tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from dispatcher.errors import InvalidMessage, Problem
from dispatcher.models.common import build
from dispatcher.models.revicom import RevicomFlashCall, RevicomSms, RevicomVk, RevicomVoiceCode

NUMBER = "14085553911"
FMT = "%Y-%m-%d %H:%M:%S"

SMS = {"destination": NUMBER, "sender_name": "SENDER", "text": "Message Text"}
VOICECODE = {"destination": NUMBER, "text": "Код авторизации от revicom: 3 4 5 6"}
FLASHCALL = {"destination": NUMBER, "sender_name": "any sender", "code": "1234"}
VK = {"destination": NUMBER, "sender_name": "group", "text": "Привет"}

BASES: dict[type[Any], dict[str, Any]] = {
    RevicomSms: SMS,
    RevicomVoiceCode: VOICECODE,
    RevicomFlashCall: FLASHCALL,
    RevicomVk: VK,
}


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def local(moment: datetime) -> str:
    return moment.strftime(FMT)


def problem_for(model: type[Any], data: dict[str, Any], field: str) -> Problem:
    with pytest.raises(InvalidMessage) as caught:
        build(model, data)
    matching = [problem for problem in caught.value.problems if problem.field == field]
    assert matching, f"no problem for {field}: {caught.value.problems}"
    return matching[0]


def assert_breaks(model: type[Any], changes: dict[str, Any], field: str, rule: str) -> None:
    """Applying ``changes`` to a valid message breaks ``field`` with a rule mentioning ``rule``."""
    problem = problem_for(model, {**BASES[model], **changes}, field)
    assert rule in problem.rule
    top, _, index = field.partition(".")
    expected = changes[top][int(index)] if index else changes[top]
    assert problem.value == expected

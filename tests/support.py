"""Helpers shared by several test modules."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from dispatcher.accounts import Account

AccountT = TypeVar("AccountT", bound=BaseModel)


def account_copy(accounts: dict[str, Account], name: str, kind: type[AccountT], **changes: Any) -> AccountT:
    """The account ``name`` (checked to be a ``kind``) with ``changes`` applied, unvalidated."""
    account = accounts[name]
    assert isinstance(account, kind)
    return account.model_copy(update=changes)

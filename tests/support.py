"""Helpers shared by several test modules."""

from __future__ import annotations

from typing import Any, TypeAlias, TypeVar

import requests
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel

from dispatcher.accounts import Account
from dispatcher.processes import free_port

AccountT = TypeVar("AccountT", bound=BaseModel)


def account_copy(accounts: dict[str, Account], name: str, kind: type[AccountT], **changes: Any) -> AccountT:
    """The account ``name`` (checked to be a ``kind``) with ``changes`` applied, unvalidated."""
    account = accounts[name]
    assert isinstance(account, kind)
    return account.model_copy(update=changes)


#: Prometheus samples: (name, labels) -> value.
Samples: TypeAlias = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    """Every sample a Prometheus endpoint serves."""
    return samples_of(requests.get(url, timeout=10).text)


def samples_of(exposition: str) -> Samples:
    """Every sample of a Prometheus text exposition."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def labels(**pairs: str) -> frozenset[tuple[str, str]]:
    return frozenset(pairs.items())


def metrics_env() -> tuple[dict[str, str], str]:
    """Environment for a worker or beat serving its metrics on a free loopback port, and their URL."""
    port = free_port()
    env = {"DISPATCHER_METRICS_PORT": str(port), "DISPATCHER_METRICS_ADDRESS": "127.0.0.1"}
    return env, f"http://127.0.0.1:{port}/metrics"

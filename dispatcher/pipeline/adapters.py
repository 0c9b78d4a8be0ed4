"""Provider adapters as the pipeline uses them: one per account per process, sending stored wire items.

Adapters hold pooled HTTP sessions (and BSG a JWT), so a process keeps one per account and its
worker threads share it (the adapters are thread-safe). ``WireRequests`` hides the three adapters'
different shapes behind one: how many items fit a request, and send them with a request tag.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Protocol

import orjson

from dispatcher.accounts import Account, BsgAccount, RevicomAccount
from dispatcher.pipeline.policy import revicom_fitting
from dispatcher.providers.base import HttpTransport
from dispatcher.providers.bsg import BsgAdapter
from dispatcher.providers.outcomes import Outcome
from dispatcher.providers.revicom import RevicomAdapter
from dispatcher.providers.smartswitch import SmartswitchAdapter
from dispatcher.settings import Settings

Adapter = RevicomAdapter | SmartswitchAdapter | BsgAdapter


class WireRequests(Protocol):
    def fitting(self, wires: Sequence[bytes], *, tag: str) -> int:
        """How many of the leading items fit one request."""

    def send(self, wires: Sequence[bytes], *, tag: str) -> list[Outcome]:
        """Send the items as one request; one outcome per item, in order, or an error of the tree."""


class RevicomRequests:
    def __init__(self, adapter: RevicomAdapter) -> None:
        self.adapter = adapter

    def fitting(self, wires: Sequence[bytes], *, tag: str) -> int:
        return revicom_fitting([len(wire) for wire in wires], tag=tag)

    def send(self, wires: Sequence[bytes], *, tag: str) -> list[Outcome]:
        return self.adapter.send_encoded(wires, request_tag=tag)


class SmartswitchRequests:
    def __init__(self, adapter: SmartswitchAdapter) -> None:
        self.adapter = adapter

    def fitting(self, wires: Sequence[bytes], *, tag: str) -> int:
        return self.adapter.fitting([_group(wire) for wire in wires])

    def send(self, wires: Sequence[bytes], *, tag: str) -> list[Outcome]:
        # Smartswitch has no request tag: an ambiguous request is settled by the account's policy.
        return self.adapter.send_wire([_group(wire) for wire in wires])


class BsgRequests:
    def __init__(self, adapter: BsgAdapter) -> None:
        self.adapter = adapter

    def fitting(self, wires: Sequence[bytes], *, tag: str) -> int:
        return 1

    def send(self, wires: Sequence[bytes], *, tag: str) -> list[Outcome]:
        # The item's own reference_id is its idempotency key at BSG; the tag is not needed.
        (wire,) = wires
        return [self.adapter.send_wire(orjson.loads(wire))]


def _group(wire: bytes) -> list[tuple[str, str]]:
    return [(str(name), str(value)) for name, value in orjson.loads(wire)]


class AdapterCache:
    """One adapter per account for this process, created on first use (thread-safe)."""

    def __init__(self, accounts: Mapping[str, Account], settings: Settings) -> None:
        self.accounts = accounts
        self.settings = settings
        self._adapters: dict[str, Adapter] = {}
        self._lock = threading.Lock()

    def account(self, name: str) -> Account:
        try:
            return self.accounts[name]
        except KeyError:
            raise LookupError(f"no account {name!r} in the providers file") from None

    def adapter(self, name: str) -> Adapter:
        with self._lock:
            adapter = self._adapters.get(name)
            if adapter is None:
                adapter = self._adapters[name] = self._create(self.account(name))
            return adapter

    def requests(self, name: str) -> WireRequests:
        adapter = self.adapter(name)
        if isinstance(adapter, RevicomAdapter):
            return RevicomRequests(adapter)
        if isinstance(adapter, BsgAdapter):
            return BsgRequests(adapter)
        return SmartswitchRequests(adapter)

    def close(self) -> None:
        with self._lock:
            for adapter in self._adapters.values():
                adapter.close()
            self._adapters.clear()

    def _create(self, account: Account) -> Adapter:
        transport = HttpTransport(
            provider=account.provider,
            base_url=account.base_url,
            connect_timeout_s=account.connect_timeout_s or self.settings.connect_timeout_s,
            read_timeout_s=account.read_timeout_s or self.settings.read_timeout_s,
            pool_size=self.settings.worker_concurrency,
        )
        if isinstance(account, RevicomAccount):
            return RevicomAdapter(account, transport=transport)
        if isinstance(account, BsgAccount):
            return BsgAdapter(account, transport=transport)
        return SmartswitchAdapter(account, transport=transport)

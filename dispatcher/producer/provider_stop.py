"""Cancelling at the provider: Revicom holds a message submitted with a send time
(``localSendTime``) until then, and stops it when asked; no other provider can take one back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dispatcher.accounts import Account, RevicomAccount
from dispatcher.providers.revicom import RevicomAdapter
from dispatcher.providers.revicom_wire import MAX_UUIDS_PER_STOP, StopResult
from dispatcher.store import Store
from dispatcher.taskqueue import split_lane


def stop_at_provider(store: Store, accounts: Mapping[str, Account], message_ids: Sequence[str]) -> int:
    """Ask Revicom to stop submitted messages that wait for their send time; returns how many
    it confirmed (those become ``cancelled``). Others are left as they are."""
    stoppable: dict[str, dict[str, str]] = {}  # account -> provider id -> our id
    for message_id, submission in zip(message_ids, store.submissions(message_ids), strict=True):
        if submission is None:
            continue
        provider_id, lane, wire = submission
        account = accounts.get(split_lane(lane)[0])
        if isinstance(account, RevicomAccount) and b'"localSendTime"' in wire:
            stoppable.setdefault(account.name, {})[provider_id] = message_id
    stopped = 0
    for account_name, by_provider_id in stoppable.items():
        account = accounts[account_name]
        assert isinstance(account, RevicomAccount)
        adapter = RevicomAdapter(account)
        try:
            provider_ids = list(by_provider_id)
            for start in range(0, len(provider_ids), MAX_UUIDS_PER_STOP):
                results = adapter.stop(provider_ids[start : start + MAX_UUIDS_PER_STOP])
                for provider_id, result in results.items():
                    if result is StopResult.WILL_STOP and provider_id in by_provider_id:
                        stopped += store.confirm_stopped(
                            by_provider_id[provider_id], reason="cancel: stopped at the provider"
                        )
        finally:
            adapter.close()
    return stopped

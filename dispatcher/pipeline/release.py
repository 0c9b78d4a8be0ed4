"""Releasing committed campaigns into their lanes: by their producer as soon as every recipient
passed its checks, and by beat when the producer could not finish (it died, or Redis failed it
half-way). The release cursor lives in the campaign (``release_campaign.lua``), so whoever continues
never pushes an id twice."""

from __future__ import annotations

from dispatcher.settings import Settings
from dispatcher.store import Store
from dispatcher.taskqueue import TaskSender, try_kick

#: Ids moved from a committed campaign to its lane per Redis call (a few ms of Redis time each).
RELEASE_CHUNK = 10_000


def release_committed(
    store: Store,
    tasks: TaskSender,
    settings: Settings,
    campaign_id: str,
    lane: str,
    *,
    max_chunks: int | None = None,
) -> tuple[int, bool]:
    """Release the campaign's remaining ids (at most ``max_chunks`` calls), kicking its lane after
    each call so sending starts while the rest is released; returns (ids released, done)."""
    released = 0
    calls = 0
    done = False
    while not done and (max_chunks is None or calls < max_chunks):
        count, done = store.release_campaign(campaign_id, lane, count=RELEASE_CHUNK)
        released += count
        calls += 1
        if count:
            try_kick(store, tasks, lane, settings)
    return released, done

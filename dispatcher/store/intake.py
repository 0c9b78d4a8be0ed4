"""The arguments and the reply of ``add_messages.lua``, shared by plain and annotated intake."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from dispatcher.store.records import NewMessage, decoded


def intake_args(
    prelude: Sequence[str | int], chunk: Sequence[NewMessage], now: float, hold: bool
) -> list[str | int | bytes]:
    """ARGV of ``add_messages.lua`` for one chunk of at most ``INTAKE_CHUNK`` messages."""
    flat: list[str] = []
    for message in chunk:
        flat += [
            message.id,
            message.lane,
            message.provider,
            message.wire.decode(),
            f"{message.deadline:.3f}",
            message.campaign or "",
            message.idempotency_key or "",
            message.channel,
        ]
    return [*prelude, f"{now:.3f}", orjson.dumps(flat), "1" if hold else "0"]


def stored_ids(chunk: Sequence[NewMessage], known: Sequence[bytes]) -> list[str]:
    """The ids of a chunk after ``add_messages.lua``: the existing id where an idempotency key was known."""
    chunk_ids = [message.id for message in chunk]
    for position, existing_id in zip(known[::2], known[1::2], strict=True):
        chunk_ids[int(position)] = decoded(existing_id)
    return chunk_ids

"""What every part of the store shares: the client, the key names, the scripts, the retention and
Redis' clock."""

from __future__ import annotations

import redis

from dispatcher.errors import ConfigurationError
from dispatcher.store.keys import Keys
from dispatcher.store.scripts import Scripts


def epoch_s(time_reply: tuple[int, int]) -> float:
    """Epoch seconds from the reply of Redis ``TIME`` (seconds, microseconds)."""
    seconds, micros = time_reply
    return seconds + micros / 1_000_000


class StoreBase:
    """The connection and conventions the store's parts (intake, batches, lanes) build on."""

    def __init__(self, client: redis.Redis, *, prefix: str, retention_s: int = 604800) -> None:
        if client.get_connection_kwargs().get("decode_responses"):
            # Wire items are bytes and must come back byte for byte.
            raise ConfigurationError("the store needs a Redis client with decode_responses=False")
        self._client = client
        self._keys = Keys(prefix)
        self._scripts = Scripts(client)
        self._retention_s = retention_s

    def close(self) -> None:
        """Close the client's connections (the store owns it when built by ``from_settings``)."""
        self._client.close()

    def now(self) -> float:
        """Redis' clock (epoch s): the one time every process compares by. The scripts read it
        themselves; this is for the decisions made in Python (a producer's deadlines and send
        times, a retry plan), one read per operation."""
        return epoch_s(self._client.time())

    def _prelude_args(self) -> list[str | int]:
        """ARGV[1..2] of every script that moves messages (see lua/prelude.lua)."""
        return [self._keys.root, self._retention_s]

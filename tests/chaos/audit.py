"""What the chaos run left behind, read from our store and from the simulator, and every way it can
break a guarantee: lost (no record), stuck (not final), created twice at a provider, fallback SMS
created twice, missing fallbacks, and disagreements between our records and what the provider holds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import redis

from dispatcher.store.keys import Keys
from dispatcher.store.states import FINAL_STATES

#: Our state once the provider's final status has reached us (callbacks/mapping.py, from the
#: providers' callback pages): the test's own copy, so that a wrong mapping shows as a mismatch.
OURS_FOR_PROVIDER_FINAL = {
    "delivered": "delivered",
    "read": "read",
    "undelivered": "undelivered",
    "unsent": "failed",
    "expired": "expired",
    "failed": "failed",
    "not_service_user": "undelivered",
}
#: An RCS message in none of these must have had its SMS fallback (docs/pipeline.md §8).
NO_FALLBACK_STATES = frozenset({"delivered", "read", "cancelled"})
_CHUNK = 1000
_FIELDS = ("st", "pid", "fbx", "fbi", "fo")


@dataclass(frozen=True)
class Record:
    state: str
    provider_id: str | None
    fallback_claimed: bool
    fallback_id: str | None
    fallback_of: str | None


def _text(value: bytes | None) -> str | None:
    return value.decode() if value is not None else None


def read_records(client: redis.Redis, keys: Keys, ids: Sequence[str]) -> dict[str, Record | None]:
    """Each id's record (None: there is none), in pipelined chunks."""
    found: dict[str, Record | None] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        pipe = client.pipeline(transaction=False)
        for message_id in chunk:
            pipe.hmget(keys.message(message_id), _FIELDS)
        for message_id, (state, pid, claimed, fallback_id, fallback_of) in zip(
            chunk, pipe.execute(), strict=True
        ):
            found[message_id] = (
                None
                if state is None
                else Record(
                    state=state.decode(),
                    provider_id=_text(pid),
                    fallback_claimed=claimed is not None,
                    fallback_id=_text(fallback_id),
                    fallback_of=_text(fallback_of),
                )
            )
    return found


@dataclass
class StoreView:
    """Every accepted message (by kind: ``campaign``, ``scheduled``, ``rcs``, and the ``fallback``
    SMS the RCS messages claimed) and its record."""

    records: dict[str, dict[str, Record | None]]
    fallbacks_pending: int

    @classmethod
    def read(cls, client: redis.Redis, keys: Keys, accepted: Mapping[str, Sequence[str]]) -> StoreView:
        records = {kind: read_records(client, keys, ids) for kind, ids in accepted.items()}
        fallback_ids = [
            record.fallback_id
            for record in records["rcs"].values()
            if record is not None and record.fallback_claimed and record.fallback_id is not None
        ]
        records["fallback"] = read_records(client, keys, fallback_ids)
        return cls(records, fallbacks_pending=int(client.zcard(keys.fallback_due)))

    def all(self) -> Iterable[tuple[str, Record | None]]:
        for by_id in self.records.values():
            yield from by_id.items()

    @property
    def lost(self) -> list[str]:
        return [message_id for message_id, record in self.all() if record is None]

    @property
    def stuck(self) -> dict[str, str]:
        return {
            message_id: record.state
            for message_id, record in self.all()
            if record is not None and record.state not in FINAL_STATES
        }

    def states(self) -> dict[str, dict[str, int]]:
        return {
            kind: dict(Counter(record.state if record else "(lost)" for record in by_id.values()))
            for kind, by_id in self.records.items()
        }

    @property
    def missing_fallbacks(self) -> list[str]:
        """RCS messages that ended without delivered/read but never had their SMS claimed."""
        return [
            message_id
            for message_id, record in self.records["rcs"].items()
            if record is not None
            and record.state in FINAL_STATES - NO_FALLBACK_STATES
            and not record.fallback_claimed
        ]

    @property
    def unlinked_fallbacks(self) -> list[str]:
        """Fallback SMS whose record does not point back at its RCS message."""
        rcs_of = {
            record.fallback_id: message_id
            for message_id, record in self.records["rcs"].items()
            if record is not None and record.fallback_claimed
        }
        return [
            sms_id
            for sms_id, record in self.records["fallback"].items()
            if record is not None and record.fallback_of != rcs_of.get(sms_id)
        ]


@dataclass
class ProviderView:
    """What the simulator created, matched to our records through the provider-id indexes."""

    created: list[dict[str, Any]]
    ours_by_provider_id: dict[str, str]

    @classmethod
    def read(cls, sim_messages: list[dict[str, Any]], client: redis.Redis, keys: Keys) -> ProviderView:
        index: dict[str, str] = {}
        for account in ("revicom", "bsg"):
            pairs: dict[bytes, bytes] = client.hgetall(keys.provider_index(account))  # type: ignore[assignment]
            for pid, ours in pairs.items():
                index[f"{account} {pid.decode()}"] = ours.decode()
        return cls(sim_messages, index)

    def duplicates(self) -> list[str]:
        """Destinations (and BSG reference ids) a provider created more than once: every message of
        the run has a number of its own per provider, so any repeat is a message sent twice."""
        seen = Counter(f"{m['provider']} to {m['destination']}" for m in self.created)
        seen.update(f"bsg ref {m['reference_id']}" for m in self.created if m["provider"] == "bsg")
        return sorted(key for key, count in seen.items() if count > 1)

    def fallback_duplicates(self, rcs_numbers: set[str]) -> list[str]:
        """RCS numbers that got more than one SMS (the fallback SMS is the only SMS they get)."""
        sms = Counter(
            m["destination"]
            for m in self.created
            if m["provider"] == "revicom" and m["destination"] in rcs_numbers
        )
        return sorted(number for number, count in sms.items() if count > 1)

    def unknown_to_us(self) -> list[str]:
        """Provider messages no record of ours points at: sent, but we would never know their fate."""
        return [
            f"{m['provider']} {m['id']}"
            for m in self.created
            if f"{m['provider']} {m['id']}" not in self.ours_by_provider_id
        ]

    def not_final(self) -> int:
        return sum(not m["final"] for m in self.created)

    def disagreements(self, store: StoreView) -> list[str]:
        """Provider messages whose final status has not (or wrongly) become our record's state."""
        records = {message_id: record for message_id, record in store.all()}
        found = []
        for m in self.created:
            ours = self.ours_by_provider_id.get(f"{m['provider']} {m['id']}")
            record = records.get(ours) if ours is not None else None
            if not m["final"] or record is None:
                continue  # not final yet, or counted by unknown_to_us
            expected = OURS_FOR_PROVIDER_FINAL.get(m["status"], m["status"])
            if record.state != expected:
                found.append(f"{ours}: provider {m['status']}, ours {record.state}")
        return found

    def phantoms(self, store: StoreView) -> list[str]:
        """Our records with a provider id the provider never created."""
        created = {f"{m['provider']} {m['id']}" for m in self.created}
        provider_of = {
            "fallback": "revicom",
            "campaign": "revicom",
            "scheduled": "revicom",
            "rcs": "bsg",
            "during": "revicom",
        }
        return [
            message_id
            for kind, by_id in store.records.items()
            for message_id, record in by_id.items()
            if record is not None
            and record.provider_id is not None
            and f"{provider_of[kind]} {record.provider_id}" not in created
        ]

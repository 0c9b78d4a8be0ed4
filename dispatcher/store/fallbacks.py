"""RCS → SMS fallback in the store: the SMS is encoded at intake (its id fixed then, its payload on
the RCS record), claimed at most once per RCS message, and created idempotently (docs/pipeline.md §8).

Fields on the RCS record: ``fb`` the SMS as JSON (``NewMessage`` fields), ``fbi`` its id, ``fbx``
claimed. On the SMS record: ``fo`` the RCS message's id.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import orjson

from dispatcher.store.intake import Extras, IntakeStore
from dispatcher.store.records import NewMessage, decoded

#: A claimed fallback stays in ``{P}:fbdue`` this long: if its creator died, beat creates it.
OUTBOX_RETRY_S = 30.0
FALLBACK_CHUNK = 1000


def fallback_payload(sms: NewMessage) -> str:
    """The ``fb`` field: the SMS as the store will take it."""
    return orjson.dumps(
        {
            "id": sms.id,
            "lane": sms.lane,
            "provider": sms.provider,
            "wire": sms.wire.decode(),
            "ttl_s": sms.ttl_s,
            "channel": sms.channel,
        }
    ).decode()


def _sms_from_payload(raw: bytes, *, now: Callable[[], float]) -> NewMessage:
    document = orjson.loads(raw)
    # Stored by an earlier version, with an absolute deadline instead: what is left of it.
    ttl_s = document["ttl_s"] if "ttl_s" in document else max(0.0, float(document["deadline"]) - now())
    return NewMessage(
        id=document["id"],
        lane=document["lane"],
        provider=document["provider"],
        wire=document["wire"].encode(),
        ttl_s=float(ttl_s),
        channel=document.get("channel", ""),
    )


class FallbackStore(IntakeStore):
    def claim_fallbacks(self, rcs_ids: Sequence[str] = ()) -> list[str]:
        """Claim the fallbacks of these RCS messages (none given: those whose deadline passed);
        returns the RCS ids whose SMS is to be created with ``create_fallbacks``."""
        reply = self._scripts.claim_fallbacks(
            keys=[self._keys.fallback_due],
            args=[*self._prelude_args(), OUTBOX_RETRY_S, FALLBACK_CHUNK, *rcs_ids],
        )
        return [decoded(rcs_id) for rcs_id in reply]

    def create_fallbacks(self, rcs_ids: Sequence[str]) -> list[NewMessage]:
        """Store the claimed SMS of these RCS messages (an SMS already stored is left as it is: its
        id was fixed at intake) linked to its RCS message, closing each claim in the same script;
        the SMS stored."""
        pipe = self._client.pipeline(transaction=False)
        for rcs_id in rcs_ids:
            pipe.hget(self._keys.message(rcs_id), "fb")
        pairs = [
            (rcs_id, _sms_from_payload(raw, now=self.now))
            for rcs_id, raw in zip(rcs_ids, pipe.execute(), strict=True)
            if raw is not None
        ]
        if not pairs:
            return []
        sms = [message for _, message in pairs]
        self.add_messages(sms, extras={message.id: Extras(fallback_of=rcs_id) for rcs_id, message in pairs})
        return sms

    def fallback_links(self, message_id: str) -> tuple[str | None, str | None]:
        """(the SMS created as this message's fallback, the RCS message this SMS stands in for)."""
        fields = self._client.hmget(self._keys.message(message_id), ["fbx", "fbi", "fo"])
        claimed, sms_id, rcs_id = fields
        return (
            decoded(sms_id) if claimed is not None and sms_id is not None else None,
            decoded(rcs_id) if rcs_id is not None else None,
        )
